"""Each image installs only its own requirements.txt: everything its code imports must be in it.

The development virtualenv holds every service's packages at once, so a missing requirement
would pass every other test and only fail inside the container. This walks the imports of
each service (and of the shared `common` modules it uses) and checks each third-party one
against the service's pinned requirements and their own dependencies.
"""

import ast
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["auth_service", "task_service", "notification_service", "api_gateway"]
FIRST_PARTY = {*SERVICES, "common"}


def module_file(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def service_imports(service: str) -> tuple[set[str], set[str]]:
    """(first-party modules reached, third-party top-level names imported), from the service's code."""
    files = [p for p in (ROOT / service).rglob("*.py") if "tests" not in p.relative_to(ROOT / service).parts]
    pending = [imported for path in files for imported in imports_of(path)]
    reached, third_party = set(), set()
    while pending:
        module = pending.pop()
        top = module.split(".")[0]
        if top in FIRST_PARTY:
            path = module_file(module)
            if path is not None and module not in reached:
                reached.add(module)
                pending.extend(imports_of(path))
        elif top not in sys.stdlib_module_names and top != "__future__":
            third_party.add(top)
    return reached, third_party


def installable(service: str) -> set[str]:
    """Distributions that installing the service's requirements.txt brings, dependencies included."""
    lines = (ROOT / service / "requirements.txt").read_text().splitlines()
    pending = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    found: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in found:
            continue
        found.update({name, key})
        for dependency in metadata.requires(requirement.name) or []:
            needed = Requirement(dependency)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": extra}) for extra in extras):
                pending.append(needed)
    return {name for name in found if "[" not in name}


@pytest.mark.parametrize("service", SERVICES)
def test_every_third_party_import_is_installed_by_the_services_requirements(service):
    _, third_party = service_imports(service)
    distributions = metadata.packages_distributions()
    allowed = installable(service)

    missing = {
        module: distributions.get(module)
        for module in third_party
        if not {canonicalize_name(d) for d in distributions.get(module, [module])} & allowed
    }

    assert missing == {}, f"{service}/requirements.txt does not install what these imports need"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service):
    reached, _ = service_imports(service)

    assert {module.split(".")[0] for module in reached} <= {service, "common"}
