"""The emulator's routing table is botocore's `mwaa` model: every route of the MWAA API is an
operation's method and request URI, and every operation but the deprecated PublishMetrics
is routed."""

from __future__ import annotations

import botocore.session

from mwaa_kit.emulators.mwaa.urls import ADMIN_PATH, ROUTES


def test_the_routes_are_botocores_operations():
    model = botocore.session.get_session().get_service_model("mwaa")
    operations = {(model.operation_model(name).http["method"],
                   model.operation_model(name).http["requestUri"]): name
                  for name in model.operation_names}
    routed = {(method, uri) for method, uri, _ in ROUTES if not uri.startswith(ADMIN_PATH)}
    assert routed <= set(operations)
    assert sorted(operations[route] for route in set(operations) - routed) == [
        "PublishMetrics"]
    for method, uri, handler in ROUTES:
        if not uri.startswith(ADMIN_PATH):  # each handler is named after its operation
            name = operations[(method, uri)]
            assert handler.__name__.replace("_", "") == name.lower()
