"""No entrypoint of any service builds SQL: routes, pages and commands read and write
through the repositories, the unit of work and the use cases."""

from __future__ import annotations

import pytest

from tests.layers import SERVICES, imports_from, modules

pytestmark = pytest.mark.unit

ENTRYPOINTS = [
    (service, module)
    for service in ("booking", "placements", "notifications")
    for module in modules(SERVICES / service / "entrypoints")
]


@pytest.mark.parametrize(("service", "module"), ENTRYPOINTS)
def test_no_entrypoint_sees_a_table_or_statement(service: str, module: str) -> None:
    path = SERVICES / service / "entrypoints" / f"{module}.py"
    assert not imports_from(path, ("sqlalchemy", f"services.{service}.adapters.orm"))
