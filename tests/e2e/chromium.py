"""Debian's headless Chromium, driven by its own chromedriver through Selenium, for the
browser flows (MWAA's web login) of both runtimes' e2e tests."""

from __future__ import annotations

import base64
import hashlib
import shutil

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def spki_pin(certificate_pem: bytes) -> str:
    """The base64 SHA-256 of a certificate's public key: the one certificate Chromium is told
    to accept (it reads no CA file; the tests verify the chain with requests)."""
    leaf = x509.load_pem_x509_certificates(certificate_pem)[0]
    spki = leaf.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def chromium(certificate_pem: bytes) -> webdriver.Chrome:
    """A headless Chromium that accepts the origin whose certificate is `certificate_pem`."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--ignore-certificate-errors-spki-list=" + spki_pin(certificate_pem)):
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)


def log_in_with_web_token(browser: webdriver.Chrome, token: dict, dag_id: str) -> str:
    """Open MWAA's web-login URL for `token` (CreateWebLoginToken's answer), then the DAGs
    page, and return the URL the browser ends on once the page lists `dag_id`: only a
    logged-in UI lists DAGs (its own API calls carry the login's cookie); a logged-out one
    is sent to a login page."""
    origin = f"https://{token['WebServerHostname']}"
    browser.get(f"{origin}/aws_mwaa/aws-console-sso?login=true#{token['WebToken']}")
    WebDriverWait(browser, 60).until(lambda driver: "aws_mwaa" not in driver.current_url)
    browser.get(f"{origin}/dags")
    WebDriverWait(browser, 120).until(
        lambda driver: dag_id in driver.find_element(By.TAG_NAME, "body").text)
    return browser.current_url
