"""`mwaa-kit salesforce`: run, seed and break the Salesforce API stub."""

from __future__ import annotations

import json
import signal
import ssl
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import click

from mwaa_kit.cli.output import friendly_errors, print_json, stdout
from mwaa_kit.emulators.salesforce import auth, ca, org
from mwaa_kit.emulators.salesforce.faults import KINDS, Faults
from mwaa_kit.emulators.salesforce.models.backend import Stub
from mwaa_kit.emulators.salesforce.server import serve as make_server
from mwaa_kit.errors import KitError

state_dir_option = click.option(
    "--state-dir", type=click.Path(file_okay=False, path_type=Path),
    default=Path(".mwaa-kit/salesforce"), show_default=True,
    help="Where the stub keeps its data, CA and port.")


@click.group()
def salesforce():
    """The Salesforce API stub: an HTTPS emulator of Salesforce's REST, SOAP login, OAuth
    and Bulk 2.0 query APIs that simple-salesforce and Airflow's SalesforceHook use
    unmodified.

    \b
    Default credentials:
      username dev@mwaa-kit.local, password `password`, security token `token`
      connected app: consumer key mwaa-kit-client, consumer secret mwaa-kit-secret
      JWT bearer: sign with STATE_DIR/jwt-key.pem (verified against jwt-cert.pem)
    \b
    Connect with REQUESTS_CA_BUNDLE=STATE_DIR/ca.pem and
      Salesforce(username=..., password=..., security_token=...,
                 domain="127.0.0.1:PORT/#")
    """


@salesforce.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8443, show_default=True, help="0 picks a free port.")
@state_dir_option
@click.option("--session-ttl", default=7200.0, show_default=True, help="Seconds.")
@click.option("--objects-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Custom objects (JSON) to add to the standard ones.")
@click.option("--cert-hostname", multiple=True, help="Extra hostname for the certificate.")
@click.option("--object", "--generate", "generate", multiple=True, metavar="NAME=COUNT",
              help="Seed these records first, when the org is still empty (containers).")
@click.option("--seed", "seed_value", default=42, show_default=True)
@click.option("--jwt-cert", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The connected app's certificate (PEM) that JWT bearer assertions are "
                   "verified against [default: STATE_DIR/jwt-cert.pem, made with its key "
                   "jwt-key.pem when missing].")
@click.option("--faults-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Fault rules (JSON list) to start with; see `faults --help`.")
@click.option("--quiet", is_flag=True, help="Do not log each request.")
def serve(host, port, state_dir, session_ttl, objects_file, cert_hostname, generate,
          seed_value, jwt_cert, faults_file, quiet):
    """Serve the Salesforce APIs over HTTPS until stopped (SIGTERM or Ctrl-C).

    Creates STATE_DIR if needed and writes ca.pem there (the CA that clients trust via
    REQUESTS_CA_BUNDLE), data.sqlite (the org's records, kept across restarts) and port
    (the port it listens on; --port 0 picks a free one). GET /health answers 200.
    """
    cert, key = ca.ensure_certificates(state_dir, tuple(cert_hostname))
    if jwt_cert is None:
        jwt_cert, _ = ca.ensure_jwt_keypair(state_dir)
    try:
        store = org.open_store(state_dir, objects_file)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if generate and store.count("User") == 0:
        org.seed(store, _counts(generate), seed_value, datetime.now(UTC))
    faults_state = Faults()
    if faults_file:
        try:
            faults_state.replace(json.loads(faults_file.read_text()))
        except ValueError as error:
            raise click.UsageError(f"{faults_file}: {error}") from None
    sessions = auth.Sessions(session_ttl, jwt_certificate=jwt_cert.read_bytes())
    server = make_server(Stub(store, sessions, faults_state), host, port, cert, key,
                         quiet=quiet)
    port_file = state_dir / "port"
    port_file.with_suffix(".tmp").write_text(str(server.server_address[1]))
    port_file.with_suffix(".tmp").replace(port_file)  # readers never see a partial file
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    click.echo(f"Salesforce stub on https://{host}:{server.server_address[1]} "
               f"(CA: {state_dir / 'ca.pem'})")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@salesforce.command()
@state_dir_option
@click.option("--object", "objects", multiple=True, metavar="NAME=COUNT",
              help="Records to generate, e.g. --object Opportunity=1000 (repeatable).")
@click.option("--seed", "seed_value", default=42, show_default=True,
              help="The same seed, counts and --now always give the same records.")
@click.option("--now", help="ISO datetime the generated dates are relative to "
                            "[default: now, UTC].")
@click.option("--from-file", "from_files", multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Load fixtures from JSON ({\"Account\": [records]}) or CSV (one object, "
                   "named by --object-name or the file name, e.g. Account.csv).")
@click.option("--object-name", help="The object a CSV fixture holds.")
@click.option("--objects-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Custom objects (JSON), as for serve.")
@friendly_errors
def seed(state_dir, objects, seed_value, now, from_files, object_name, objects_file):
    """Add generated (deterministic) or fixture records to the stub's org.

    Works whether or not the stub is running (SQLite in STATE_DIR). Generated values
    spread over the two years before --now, so every recent month has records.
    """
    try:
        moment = datetime.fromisoformat(now.replace("Z", "+00:00")) if now else \
            datetime.now(UTC)
    except ValueError:
        raise KitError(f"--now {now!r} is not an ISO datetime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    try:
        store = org.open_store(state_dir, objects_file)
        for path in from_files:
            loaded = org.load_fixtures(store, path, object_name, moment)
            stdout.print(f"{path}: loaded {loaded} records")
        counts = _counts(objects)
        org.seed(store, counts, seed_value, moment)
    except (ValueError, KeyError) as error:
        raise KitError(str(error)) from None
    for name in counts:
        stdout.print(f"{name}: {store.count(name)} records")


def _counts(entries: tuple[str, ...]) -> dict[str, int]:
    counts = {}
    for entry in entries:
        name, _, count = entry.partition("=")
        if not count.isdigit():
            raise KitError(f"{entry!r}: write NAME=COUNT, e.g. Lead=500")
        counts[name] = int(count)
    return counts


_FAULTS_HELP = """Set, list or clear the running stub's fault rules.

\b
Kinds: expired_session (401 INVALID_SESSION_ID), request_limit (403
REQUEST_LIMIT_EXCEEDED), server_error (500), unavailable (503), latency (adds
--seconds), drop (closes the connection unanswered), truncate (half the body).
\b
A rule matches requests whose path contains --path (default /services/data/) and,
with --object, that are about that object (its /sobjects/ URL, a query FROM it, its
query locators and Bulk jobs). It lets the first --after matches through, then fires
--times times; with --probability it fires on each match at that chance instead.
\b
Examples:
  mwaa-kit salesforce faults --kind request_limit --object Opportunity --after 2
  mwaa-kit salesforce faults --kind latency --seconds 2 --probability 0.1 --times 0
  mwaa-kit salesforce faults --add truncate:/query/:1:1      (KIND:PATH:AFTER:TIMES)
  mwaa-kit salesforce faults --expire-sessions
  mwaa-kit salesforce faults --clear
"""


@salesforce.command(help=_FAULTS_HELP)
@state_dir_option
@click.option("--kind", type=click.Choice(KINDS), help="Add one rule of this kind.")
@click.option("--path", default=None, help="Path substring the rule matches.")
@click.option("--object", "sobject", default=None, help="Object the rule matches.")
@click.option("--after", type=click.IntRange(0), default=None,
              help="Let this many matching requests through first (nth request = after+1).")
@click.option("--times", type=click.IntRange(0), default=None,
              help="Fire this many times (default 1).")
@click.option("--probability", type=click.FloatRange(0, 1), default=None,
              help="Fire on each match with this chance (no --times limit).")
@click.option("--seconds", type=click.FloatRange(0), default=None,
              help="Latency to add (kind latency).")
@click.option("--add", "rules", multiple=True, metavar="KIND[:PATH[:AFTER[:TIMES]]]",
              help="A rule in short form; repeatable.")
@click.option("--replace", is_flag=True, help="Replace the current rules instead of adding.")
@click.option("--clear", is_flag=True, help="Remove every rule.")
@click.option("--expire-sessions", is_flag=True, help="Expire every open session now.")
@friendly_errors
def faults(state_dir, kind, path, sobject, after, times, probability, seconds, rules,
           replace, clear, expire_sessions):
    port = (state_dir / "port").read_text().strip() if (state_dir / "port").exists() else None
    if port is None:
        raise KitError(f"no running stub found in {state_dir} (no port file).",
                       hint="Start the environment with `mwaa-kit up` (or a stub alone with "
                            "`mwaa-kit salesforce serve`), or point --state-dir at its folder.")
    context = ssl.create_default_context(cafile=str(state_dir / "ca.pem"))
    base = f"https://127.0.0.1:{port}/__admin"

    def call(url: str, method: str = "GET", data=None):
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            raise KitError(f"the stub refused the rules: {detail}") from None
        except OSError as error:
            raise KitError(f"cannot reach the stub on port {port}: {error}") from None

    if expire_sessions:
        call(f"{base}/sessions", "DELETE")
        stdout.print("Every session is expired.")
    parsed = [_short_rule(rule) for rule in rules]
    if kind:
        entry = {"kind": kind}
        for key, value in (("path", path), ("sobject", sobject), ("after", after),
                           ("times", times), ("probability", probability),
                           ("seconds", seconds)):
            if value is not None:
                entry[key] = value
        parsed.append(entry)
    elif any(v is not None for v in (path, sobject, after, times, probability, seconds)):
        raise KitError("--path/--object/--after/--times/--probability/--seconds "
                              "describe a rule: give its --kind too.")
    if clear:
        listing = call(f"{base}/faults", "DELETE")
    if parsed:
        listing = call(f"{base}/faults", "PUT" if replace else "POST", parsed)
    elif not clear:
        listing = call(f"{base}/faults")
    print_json(listing)


def _short_rule(rule: str) -> dict:
    kind, *rest = rule.split(":")
    if kind not in KINDS:
        raise KitError(f"{rule!r}: unknown kind {kind!r}; one of {', '.join(KINDS)}")
    entry: dict = {"kind": kind}
    for key, value in zip(("path", "after", "times"), rest, strict=False):
        if key == "path":
            entry[key] = value
        elif value.isdigit():
            entry[key] = int(value)
        else:
            raise KitError(f"{rule!r}: {key} must be a whole number")
    return entry
