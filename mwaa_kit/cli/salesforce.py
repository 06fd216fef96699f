"""`mwaa-kit salesforce`: run, seed and break the Salesforce API stub."""

from __future__ import annotations

import json
import signal
import ssl
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import click

from mwaa_kit.cli.output import UserFacingError, friendly_errors, print_json, stdout
from mwaa_kit.emulators.salesforce import auth, ca, org
from mwaa_kit.emulators.salesforce.faults import KINDS, Faults
from mwaa_kit.emulators.salesforce.server import Stub
from mwaa_kit.emulators.salesforce.server import serve as make_server

state_dir_option = click.option(
    "--state-dir", type=click.Path(file_okay=False, path_type=Path),
    default=Path(".mwaa-kit/salesforce"), show_default=True,
    help="Where the stub keeps its data, CA and port.")


@click.group()
def salesforce():
    """The Salesforce API stub (HTTPS; login dev@mwaa-kit.local / password + token)."""


@salesforce.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8443, show_default=True, help="0 picks a free port.")
@state_dir_option
@click.option("--session-ttl", default=7200.0, show_default=True, help="Seconds.")
@click.option("--objects-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Custom objects (JSON) to add to the standard ones.")
@click.option("--cert-hostname", multiple=True, help="Extra hostname for the certificate.")
@click.option("--generate", multiple=True, metavar="NAME=COUNT",
              help="Seed these records first, when the org is still empty (containers).")
@click.option("--seed", "seed_value", default=42, show_default=True)
def serve(host, port, state_dir, session_ttl, objects_file, cert_hostname, generate,
          seed_value):
    """Serve the Salesforce APIs over HTTPS until stopped (SIGTERM or Ctrl-C)."""
    cert, key = ca.ensure_certificates(state_dir, tuple(cert_hostname))
    store = org.open_store(state_dir, objects_file)
    if generate and store.count("User") == 0:
        org.seed(store, _counts(generate), seed_value, datetime.now(UTC))
    server = make_server(Stub(store, auth.Sessions(session_ttl), Faults()), host, port,
                         cert, key)
    (state_dir / "port").write_text(str(server.server_address[1]))
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
              help="Records to generate, e.g. --object Opportunity=1000.")
@click.option("--seed", "seed_value", default=42, show_default=True)
@click.option("--now", help="ISO datetime the generated dates are relative to.")
@click.option("--from-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Load fixtures from JSON or CSV instead.")
@click.option("--object-name", help="The object a CSV fixture holds.")
@friendly_errors
def seed(state_dir, objects, seed_value, now, from_file, object_name):
    """Add generated (deterministic) or fixture records to the stub's org."""
    moment = datetime.fromisoformat(now).astimezone(UTC) if now else datetime.now(UTC)
    store = org.open_store(state_dir)
    if from_file:
        stdout.print(f"Loaded {org.load_fixtures(store, from_file, object_name)} records")
        return
    counts = _counts(objects)
    try:
        org.seed(store, counts, seed_value, moment)
    except ValueError as error:
        raise UserFacingError(str(error)) from None
    for name in counts:
        stdout.print(f"{name}: {store.count(name)} records")


def _counts(entries: tuple[str, ...]) -> dict[str, int]:
    counts = {}
    for entry in entries:
        name, _, count = entry.partition("=")
        if not count.isdigit():
            raise UserFacingError(f"{entry!r}: write NAME=COUNT, e.g. Lead=500")
        counts[name] = int(count)
    return counts


@salesforce.command()
@state_dir_option
@click.option("--add", "rules", multiple=True, metavar="KIND[:PATH[:AFTER[:TIMES]]]",
              help=f"A rule; KIND is one of {', '.join(KINDS)}.")
@click.option("--clear", is_flag=True, help="Remove every rule.")
@friendly_errors
def faults(state_dir, rules, clear):
    """Set (or list, or clear) the running stub's fault rules."""
    port = (state_dir / "port").read_text().strip() if (state_dir / "port").exists() else None
    if port is None:
        raise UserFacingError(f"no running stub found in {state_dir} (no port file).")
    context = ssl.create_default_context(cafile=str(state_dir / "ca.pem"))
    url = f"https://127.0.0.1:{port}/__admin/faults"
    if clear:
        request = urllib.request.Request(url, method="DELETE")
    elif rules:
        parsed = []
        for rule in rules:
            kind, *rest = rule.split(":")
            entry = {"kind": kind}
            for key, value in zip(("path", "after", "times"), rest, strict=False):
                entry[key] = int(value) if key != "path" else value
            parsed.append(entry)
        request = urllib.request.Request(url, data=json.dumps(parsed).encode(), method="POST")
    else:
        request = urllib.request.Request(url)
    with urllib.request.urlopen(request, context=context) as response:
        print_json(json.loads(response.read()))
