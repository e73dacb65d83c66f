"""Layout rules that import-linter cannot express (it sees external packages only at their top level)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["ppm_cli", "ppm_assets", "ppm_sensors", "ppm_checks", "ppm_resources", "ppm_sandbox"]
ADAPTER = ROOT / "ppm_resources" / "dagster_internals.py"


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def test_dagster_internals_are_imported_by_the_one_adapter_only() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if m.startswith("dagster._"))
        for package in [*PACKAGES, "bench"]
        for path in (ROOT / package).rglob("*.py")
        if path != ADAPTER
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}
    assert any(m.startswith("dagster._") for m in imported_modules(ADAPTER))


def test_every_asset_area_is_a_folder_listed_in_definitions() -> None:
    definitions = (ROOT / "ppm_assets" / "definitions.py").read_text(encoding="utf-8")
    areas = sorted(p.name for p in (ROOT / "ppm_assets").iterdir() if (p / "__init__.py").is_file())
    assert areas == ["azure", "control_room", "finance", "notion", "quality", "writeback"]
    for area in areas:
        assert area in definitions, f"ppm_assets/{area} is not merged by definitions.py"


def test_the_table_registry_lists_exactly_the_tables_of_the_code_location() -> None:
    from ppm_assets.definitions import defs, mapping
    from ppm_assets.tables import all_tables

    graph = defs.resolve_asset_graph()
    assert {t.key for t in all_tables(mapping)} == set(graph.get_all_asset_keys())
