"""The Resource Graph emulator's KQL subset, as pure functions: parse errors, semantics, evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from ppm_sandbox.azure import kql
from ppm_sandbox.azure.model import RESOURCE_COLUMNS

ROWS: list[dict[str, Any]] = [
    {
        "id": "/subscriptions/s1/resourceGroups/RG-A/providers/Microsoft.Compute/virtualMachines/VM-1",
        "name": "VM-1",
        "type": "microsoft.compute/virtualmachines",
        "resourceGroup": "rg-a",
        "location": "westeurope",
        "tags": {"ppm-project": "PRJ-1", "env": "prod"},
        "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v3"}, "zones": ["1", "2"]},
    },
    {
        "id": "/subscriptions/s1/resourceGroups/rg-b/providers/Microsoft.Storage/storageAccounts/stdata",
        "name": "stdata",
        "type": "microsoft.storage/storageaccounts",
        "resourceGroup": "rg-b",
        "location": "northeurope",
        "tags": {"PPM-Project": "PRJ-2"},
        "properties": {},
    },
    {
        "id": "/subscriptions/s1/resourceGroups/rg-b/providers/Microsoft.Compute/disks/disk-1",
        "name": "disk-1",
        "type": "microsoft.compute/disks",
        "resourceGroup": "rg-b",
        "location": "westeurope",
        "tags": None,
        "properties": {"diskSizeGB": 128},
    },
]


def run(text: str) -> list[dict[str, Any]]:
    return kql.execute(kql.parse(text, RESOURCE_COLUMNS), [dict(row) for row in ROWS])


def names(text: str) -> list[str]:
    return [row["name"] for row in run(text)]


def test_table_alone_returns_every_column() -> None:
    query = kql.parse("Resources", RESOURCE_COLUMNS)
    assert query.table == kql.RESOURCES and query.columns == RESOURCE_COLUMNS and not query.limited
    assert len(kql.execute(query, ROWS)) == 3


def test_table_names_are_case_insensitive_and_optional() -> None:
    assert kql.parse("resources | take 1", RESOURCE_COLUMNS).table == kql.RESOURCES
    assert kql.parse("resourcecontainers", RESOURCE_COLUMNS).table == kql.RESOURCE_CONTAINERS
    assert kql.parse("where name == 'x'", RESOURCE_COLUMNS).table == kql.RESOURCES


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("type =~ 'Microsoft.Compute/virtualMachines'", ["VM-1"]),
        ("type == 'Microsoft.Compute/virtualMachines'", []),
        ("name != 'VM-1'", ["stdata", "disk-1"]),
        ("name !~ 'vm-1'", ["stdata", "disk-1"]),
        ("location in ('westeurope')", ["VM-1", "disk-1"]),
        ("name in~ ('vm-1', 'STDATA')", ["VM-1", "stdata"]),
        ("name !in ('VM-1')", ["stdata", "disk-1"]),
        ("name contains 'DISK'", ["disk-1"]),
        ("name contains_cs 'DISK'", []),
        ("name startswith 'st'", ["stdata"]),
        ("name endswith '-1'", ["VM-1", "disk-1"]),
        ("isnotempty(tags['ppm-project'])", ["VM-1"]),
        ("isempty(tags['ppm-project'])", ["stdata", "disk-1"]),
        ("isnull(tags)", ["disk-1"]),
        ("tags.env == 'prod' and location == 'westeurope'", ["VM-1"]),
        ("name == 'stdata' or name == 'disk-1'", ["stdata", "disk-1"]),
        ("not(name == 'VM-1')", ["stdata", "disk-1"]),
        ("(name == 'VM-1' or name == 'stdata') and isnotnull(tags)", ["VM-1", "stdata"]),
        ("properties.diskSizeGB == 128", ["disk-1"]),
        ("properties.zones[1] == '2'", ["VM-1"]),
        ("tolower(name) == 'vm-1'", ["VM-1"]),
    ],
)
def test_where(predicate: str, expected: list[str]) -> None:
    assert names(f"Resources | where {predicate}") == expected


def test_bag_lookups_are_case_sensitive_like_kql() -> None:
    # Azure tag names are case-insensitive; ARG's tags bag is not: a PPM-Project tag is invisible here.
    assert names("Resources | where tags['ppm-project'] =~ 'prj-2'") == []
    assert names("Resources | where tags['PPM-Project'] == 'PRJ-2'") == ["stdata"]


def test_null_compares_false_whatever_the_operator() -> None:
    assert names("Resources | where tags.env != 'dev'") == ["VM-1"]
    assert names("Resources | where tags.env !in ('dev')") == ["VM-1"]


def test_project_aliases_paths_and_extend() -> None:
    rows = run("Resources | where name == 'VM-1' | project id, project = tags['ppm-project'], tags.env")
    assert list(rows[0]) == ["id", "project", "tags_env"]
    assert rows[0]["project"] == "PRJ-1" and rows[0]["tags_env"] == "prod"
    extended = run(
        "Resources | extend size = tostring(properties.diskSizeGB) | where size == '128' | project name, size"
    )
    assert extended == [{"name": "disk-1", "size": "128"}]


def test_order_defaults_to_descending_and_nulls_follow_kql() -> None:
    assert names("Resources | order by name") == ["stdata", "disk-1", "VM-1"]  # ordinal, descending
    assert names("Resources | sort by name asc") == ["VM-1", "disk-1", "stdata"]
    by_env = names("Resources | order by tostring(tags.env) asc, name asc")
    assert by_env == ["disk-1", "stdata", "VM-1"]
    assert names("Resources | extend e = tags.env | order by e asc")[0] in ("stdata", "disk-1")
    assert names("Resources | extend e = tags.env | order by e desc")[0] == "VM-1"
    assert names("Resources | extend e = tags.env | order by e asc nulls last, name asc")[0] == "VM-1"


def test_limit_take_top_mark_the_query_limited() -> None:
    for text in ("Resources | take 2", "Resources | limit 2", "Resources | top 2 by name asc"):
        query = kql.parse(text, RESOURCE_COLUMNS)
        assert query.limited
        assert len(kql.execute(query, ROWS)) == 2
    assert names("Resources | top 1 by name asc") == ["VM-1"]


def test_projects_id_decides_paging() -> None:
    assert kql.parse("Resources | project id, name", RESOURCE_COLUMNS).projects_id
    assert not kql.parse("Resources | project name", RESOURCE_COLUMNS).projects_id
    assert kql.parse("Resources", RESOURCE_COLUMNS).projects_id


@pytest.mark.parametrize(
    ("text", "kind", "token", "column"),
    [
        ("Resources | where where", "parse", "where", 18),
        ("Resources |", "parse", "<EOF>", 11),
        ("Resources | where name = 'x'", "parse", "=", 23),
        ("Resources | Where name == 'x'", "parse", "Where", 12),
        ("Resources | where name == 'x", "parse", "'x", 26),
        ("Resources | project Name", "semantic", "Name", 20),
        ("Resources | project name | where type == 'x'", "semantic", "type", 33),
        ("Foo | take 1", "semantic", "Foo", 0),
        ("Resources | summarize count() by type", "unsupported", "summarize", 12),
        ("Resources | mv-expand tags", "unsupported", "mv-expand", 12),
        ("AdvisorResources | take 1", "unsupported", "AdvisorResources", 0),
        ("Resources | where name matches regex 'x'", "unsupported", "matches", 23),
        ("Resources | extend x = strlen(name)", "unsupported", "strlen", 23),
    ],
)
def test_refused_queries(text: str, kind: str, token: str, column: int) -> None:
    with pytest.raises(kql.KqlError) as caught:
        kql.parse(text, RESOURCE_COLUMNS)
    assert (caught.value.kind, caught.value.token, caught.value.line, caught.value.column) == (
        kind,
        token,
        1,
        column,
    )


def test_error_positions_count_lines() -> None:
    with pytest.raises(kql.KqlError) as caught:
        kql.parse("Resources\n| where name == 'x' and", RESOURCE_COLUMNS)
    assert (caught.value.line, caught.value.column, caught.value.token) == (2, 23, "<EOF>")


def test_strings_escapes_and_comments() -> None:
    assert names('Resources // all of them\n| where name == "VM-1"') == ["VM-1"]
    assert names(r"Resources | where name != 'it\'s'") == ["VM-1", "stdata", "disk-1"]
    assert names("Resources | where name == @'VM-1'") == ["VM-1"]
