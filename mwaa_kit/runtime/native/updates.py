"""An UpdateEnvironment applied to the running native environment, all or nothing.

A part of `NativeEnvironment` (environment.py), kept apart as one concern.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from mwaa_kit.contract.bundle import Bundle, PreparedEnvironment
from mwaa_kit.runtime.native.launch import Launcher


class BundleUpdates(Launcher):
    """Re-apply a bundle to the running components; put the previous one back on failure."""

    def apply_bundle(self, bundle: Bundle, airflow_version: str) -> None:
        """Re-apply an MWAA environment's bundle (an UpdateEnvironment) to the running
        environment: run the contract on it, then restart Airflow's components on the
        result. On any failure the previous plugins, requirements, startup script and
        processes are put back and the error is raised (the update is UPDATE_FAILED; MWAA
        too keeps running the previous versions)."""
        if airflow_version != self.version.airflow_version:
            raise RuntimeError(
                f"the local environment runs Airflow {self.version.airflow_version}; to "
                f"try {airflow_version}, set it in mwaa-kit.toml and run `mwaa-kit up`.")
        previous = self.prepared()
        state = self._load_state()
        ports = state["ports"]
        bundle = replace(bundle, dags_dir=self.home.joinpath("dags").resolve())
        saved = self._save_home()
        try:
            self.report("Applying the environment's new bundle with the MWAA contract")
            try:
                prepared = self._prepare(bundle, ports)
            except BaseException:  # the components still run the previous versions
                self._put_back(saved, previous)
                raise
            self.report("Restarting Airflow's components on it")
            self._stop_components(state)
            try:
                state["virtualenv"] = str(prepared.virtualenv.path)
                self._start_components(prepared, ports, state)
            except BaseException:
                self._stop_components(state)
                self._put_back(saved, previous)
                state["virtualenv"] = str(previous.virtualenv.path)
                self._start_components(previous, ports, state)
                raise
        finally:
            shutil.rmtree(saved, ignore_errors=True)
        self._save_state(state)

    def _put_back(self, saved: Path, previous: PreparedEnvironment) -> None:
        self.report("The update failed: putting the previous versions back")
        self._restore_home(saved)
        self._save_airflow_env(previous.base_env)

    # What the contract rewrites in AIRFLOW_HOME (dags/ is a link, logs/ is kept).
    _BUNDLE_FOLDERS = ("plugins", "requirements", "startup")

    def _save_home(self) -> Path:
        saved = self.native_dir / "home-before-update"
        shutil.rmtree(saved, ignore_errors=True)
        for folder in self._BUNDLE_FOLDERS:
            if (self.home / folder).is_dir():
                shutil.copytree(self.home / folder, saved / folder, symlinks=True)
        saved.mkdir(parents=True, exist_ok=True)
        return saved

    def _restore_home(self, saved: Path) -> None:
        for folder in self._BUNDLE_FOLDERS:
            shutil.rmtree(self.home / folder, ignore_errors=True)
            if (saved / folder).is_dir():
                shutil.copytree(saved / folder, self.home / folder, symlinks=True)
