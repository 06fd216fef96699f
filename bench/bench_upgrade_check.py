"""`mwaa-kit upgrade-check --to 3.3.1` beside what a user would run by hand instead, over
the same 200 Airflow 2 DAG files, in the same run.

The files are the DAGs of the upgrade corpus (tests/fixtures/upgrade/dags: removed
imports, schedule_interval, days_ago, SubDAGs, removed context keys in templates, files
fine on both...), each copied under its own DAG id, round-robin, into a 2.11.0 project
without requirements, plugins, startup script or [airflow_config] options (the two DAGs
that need the corpus's plugins are left out: the plain side would need them on its path
too). By hand: `ruff check --select AIR3 --preview` (AIR321 is a preview rule) plus
`airflow dags list-import-errors --local` in the target's virtualenv, the one the kit
builds and caches (bench_validate's side, on SQLite, `airflow db migrate` timed apart).
Both sides are wall clock with their interpreters' start; they run alternately --repeat
times and the medians are compared. The goal: upgrade-check at most 1.2x the sum.

What each side covers. By hand: DAG code only, ruff's AIR3 rules and the import errors of
Airflow's DagBag. upgrade-check: the same two (the same ruff, the DagBag in the same
virtualenv, one forked parser per core), plus what a DAG does at parse time (Variables,
hooks, network), parse times against MWAA's limits, duplicate DAG ids, Airflow's
deprecation warnings and templates reading removed context keys; and its checks of the
rest of a project: configuration, startup.sh, requirements resolved against the
target's constraints, plugins. The project is DAG code only because that is all the
plain side reads: with requirements or plugins, upgrade-check would resolve and import
them (seconds of uv and of Airflow) while the plain side would not even see them. Here
those checks find nothing of the project's, say so ("no requirements to resolve",
printed below) and start nothing.

It also checks that both find the same: upgrade-check's AIR findings are ruff's, and every
file Airflow fails to import is an error of upgrade-check's (which adds what neither
command sees: templates reading removed context keys). upgrade-check's own time per check
is printed, so what dominates it shows.

    python bench/bench_upgrade_check.py [--files 200] [--to 3.3.1] [--repeat 3] [--keep]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ruff.__main__ import find_ruff_bin  # noqa: E402

from bench.bench_validate import (  # noqa: E402
    bench_parser,
    format_runs,
    new_project,
    prepare_airflow,
    run_airflow,
    run_kit,
)
from mwaa_kit import catalog  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "upgrade" / "dags"
FROM_VERSION = "2.11.0"
NEEDS_PLUGINS = ("fine_plugin_operator.py", "plugin_operator_template.py")


def generate(project: Path, files: int) -> None:
    """`files` DAG files made from the corpus's, round-robin, each with its own DAG id."""
    sources = sorted(path for path in CORPUS.glob("*.py") if path.name not in NEEDS_PLUGINS)
    dags = project / "dags"
    dags.mkdir(parents=True)
    shutil.copytree(CORPUS / "sql", dags / "sql")  # template_file.py's template
    (project / "mwaa-kit.toml").write_text(
        f'[environment]\nairflow_version = "{FROM_VERSION}"\n')
    for number in range(files):
        source = sources[number % len(sources)]
        name, new = source.stem, f"{source.stem}_{number:03d}"
        text = source.read_text()
        for old_id, new_id in ((f'"{name}"', f'"{new}"'), (f"def {name}(", f"def {new}("),
                               (f"\n{name}()", f"\n{new}()")):  # @dag: the function's name
            text = text.replace(old_id, new_id)
        (dags / f"{source.stem}_{number:03d}.py").write_text(text)


def run_ruff(project: Path) -> tuple[float, list[dict]]:
    started = time.monotonic()
    result = subprocess.run(
        [find_ruff_bin(), "check", "--isolated", "--no-cache", "--preview", "--select",
         "AIR3", "--exit-zero", "--output-format", "json", "dags"],
        cwd=project, capture_output=True, text=True, timeout=600,
    )
    return time.monotonic() - started, json.loads(result.stdout)


def compare(project: Path, report: dict, diagnostics: list[dict],
            import_errors: set[str]) -> tuple[bool, bool, set[str]]:
    """(the AIR findings are ruff's, every import failure is an error of upgrade-check's,
    the files upgrade-check fails that Airflow imports: they fail when a task runs)."""
    dags = next(check for check in report["checks"] if check["name"] == "dags")
    kit_rules = {(f["file"], f["line"], f["code"].split(".")[1]) for f in dags["findings"]
                 if f["code"] and f["code"].split(".")[1].startswith("AIR")}
    ruff_rules = {(str(Path(item["filename"]).resolve().relative_to(project.resolve())),
                   item["location"]["row"], item["code"]) for item in diagnostics}
    kit_errors = {f["file"] for f in dags["findings"] if f["severity"] == "error"}
    return kit_rules == ruff_rules, import_errors <= kit_errors, kit_errors - import_errors


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--to", default="3.3.1", help="the target version")
    args = parser.parse_args(argv)
    target = catalog.get_version(args.to)
    project = new_project("bench-upgrade")
    try:
        generate(project, args.files)
        env, bin_dir, migrate = prepare_airflow(project, target)
        kit_runs, ruff_runs, airflow_runs = [], [], []
        for _ in range(max(1, args.repeat)):
            seconds, report = run_kit(project, "upgrade-check", "--to", args.to)
            kit_runs.append(seconds)
            seconds, diagnostics = run_ruff(project)
            ruff_runs.append(seconds)
            seconds, import_errors = run_airflow(project, env, bin_dir)
            airflow_runs.append(seconds)
        kit = statistics.median(kit_runs)
        by_hand = statistics.median(ruff_runs) + statistics.median(airflow_runs)
        same_rules, imports_covered, only_kit = compare(project, report, diagnostics,
                                                        import_errors)
        ratio = kit / by_hand
        checks = ", ".join(f"{c['name']} {c['seconds']:.1f}" for c in report["checks"])
        print(f"{args.files} DAG files, Airflow {FROM_VERSION} -> {args.to}, "
              f"{os.cpu_count()} core(s), median of {len(kit_runs)} run(s) each")
        print(f"mwaa-kit upgrade-check --to {args.to}:      {kit:6.1f} s; "
              f"runs {format_runs(kit_runs)}")
        print(f"  its checks (s): {checks}")
        idle = [c for c in report["checks"] if c["details"].get("nothing_to_check")]
        print(f"  with nothing of the project's to check ({sum(c['seconds'] for c in idle):.1f}"
              f" s): {'; '.join(c['details']['nothing_to_check'] for c in idle)}")
        print(f"ruff check --select AIR3 --preview:        "
              f"{statistics.median(ruff_runs):6.1f} s; runs {format_runs(ruff_runs)}")
        print(f"airflow dags list-import-errors --local:   "
              f"{statistics.median(airflow_runs):6.1f} s (after airflow db migrate: "
              f"{migrate:.1f} s); runs {format_runs(airflow_runs)}")
        print(f"ratio upgrade-check / (ruff + airflow): {ratio:.2f}x (goal <= 1.2x: "
              f"{'met' if ratio <= 1.2 else 'NOT met'})")
        print(f"same AIR findings as ruff: {'yes' if same_rules else 'NO'}; every file "
              f"Airflow fails to import is an upgrade-check error: "
              f"{'yes' if imports_covered else 'NO'}")
        kinds = sorted({re.sub(r"_\d{3}$", "", Path(file).stem) for file in only_kit})
        print(f"files upgrade-check fails that Airflow imports ({len(only_kit)}; they fail "
              f"when a task runs): {', '.join(kinds)}")
        return 0 if same_rules and imports_covered else 1
    finally:
        if not args.keep:
            shutil.rmtree(project, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
