"""`config/dq_rules.yaml`: the declarative data-quality rules, validated against the Notion mapping."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from ppm_resources.notion.mapping import NotionMapping, column_kind
from ppm_resources.paths import config_dir

#: `accepted_values` entry meaning "the currencies of config/fx_rates.yaml".
FX_RATES_CURRENCIES = "fx_rates"

CheckSeverity = Literal["ERROR", "WARN"]


class Severities(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    required: CheckSeverity = "WARN"
    accepted_values: CheckSeverity = "WARN"
    ranges: CheckSeverity = "WARN"
    references: CheckSeverity = "WARN"
    parseable: CheckSeverity = "WARN"
    reconciliation: CheckSeverity = "ERROR"
    schema_change: CheckSeverity = "WARN"
    row_counts: CheckSeverity = "WARN"
    gold_reconciliation: CheckSeverity = "ERROR"
    dq_score: CheckSeverity = "ERROR"


class RangeRule(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    column: str
    min: float | None = None
    max: float | None = None
    not_before: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> RangeRule:
        bounded = self.min is not None or self.max is not None
        if bounded == (self.not_before is not None):
            raise ValueError(f"range on {self.column!r}: give min and/or max, or not_before, not both")
        return self


class RowCountBounds(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    min_rows: int = Field(default=0, ge=0)
    max_drop_pct: float | None = Field(default=None, ge=0, le=100)


class DqScoreConfig(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    min_pct: float = Field(default=95.0, ge=0, le=100)


class DqRules(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    severities: Severities = Severities()
    required: dict[str, list[str]] = {}
    accepted_values: dict[str, dict[str, list[str] | Literal["fx_rates"]]] = {}
    ranges: dict[str, list[RangeRule]] = {}
    references: dict[str, dict[str, str]] = {}
    row_counts: dict[str, RowCountBounds] = {}
    dq_score: DqScoreConfig = DqScoreConfig()

    def row_count_bounds(self, table: str) -> RowCountBounds:
        return self.row_counts.get(table) or self.row_counts.get("default") or RowCountBounds()


class DqRulesError(ValueError):
    """The rules file is unreadable, invalid, or names a table or column the mapping does not have."""


def validate_against_mapping(rules: DqRules, mapping: NotionMapping, source: str) -> None:
    """Every table and column the rules name exists in the mapping, with a type the rule can check."""
    tables = {
        db.silver_table: {c.column_name: c.column_type for c in db.columns}
        for db in mapping.databases.values()
    }

    def comparable(kind: str) -> bool:
        return column_kind(kind).numeric or column_kind(kind).temporal

    problems: list[str] = []

    def column_type(section: str, table: str, column: str) -> str | None:
        if table not in tables:
            problems.append(f"{section}.{table}: no silver table {table!r} in {mapping.source}")
            return None
        if column not in tables[table]:
            problems.append(f"{section}.{table}: no column {column!r} (columns: {', '.join(tables[table])})")
            return None
        return tables[table][column]

    for table, columns in rules.required.items():
        for column in columns:
            column_type("required", table, column)
    for table, by_column in rules.accepted_values.items():
        for column in by_column:
            kind = column_type("accepted_values", table, column)
            if kind is not None and kind != "string":
                problems.append(f"accepted_values.{table}.{column}: only string columns, not {kind}")
    for table, ranges in rules.ranges.items():
        for entry in ranges:
            kind = column_type("ranges", table, entry.column)
            if entry.not_before is not None:
                other = column_type("ranges", table, entry.not_before)
                if kind is not None and other is not None and not (comparable(kind) and comparable(other)):
                    problems.append(f"ranges.{table}.{entry.column}: not_before compares dates or numbers")
            elif kind is not None and not column_kind(kind).numeric:
                problems.append(f"ranges.{table}.{entry.column}: min/max need a number column, not {kind}")
    for table, by_column in rules.references.items():
        for column, parent in by_column.items():
            kind = column_type("references", table, column)
            if kind is not None and kind != "relation":
                problems.append(f"references.{table}.{column}: needs a relation column, not {kind}")
            if parent not in tables:
                problems.append(
                    f"references.{table}.{column}: no parent table {parent!r} in {mapping.source}"
                )
    for table in rules.row_counts:
        if table != "default" and table not in tables:
            problems.append(f"row_counts.{table}: no silver table {table!r} in {mapping.source}")
    if problems:
        raise DqRulesError(f"{source}: " + "; ".join(problems))


def parse_dq_rules(text: str, mapping: NotionMapping, source: str = "config/dq_rules.yaml") -> DqRules:
    """Parse and validate the rules (against `mapping`); errors name the file and the entry."""
    rules = _parse(text, source)
    validate_against_mapping(rules, mapping, source)
    return rules


def _parse(text: str, source: str) -> DqRules:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise DqRulesError(f"{source}: not valid YAML: {error}") from error
    try:
        rules = DqRules.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors()
        )
        raise DqRulesError(f"{source}: {problems}") from error
    return rules


@cache
def _load(path: Path, mtime: float) -> DqRules:
    return _parse(path.read_text(encoding="utf-8"), source=f"config/{path.name}")


def load_dq_rules(mapping: NotionMapping, path: Path | None = None) -> DqRules:
    """The rules file (cached until the file changes)."""
    path = path or config_dir() / "dq_rules.yaml"
    if not path.is_file():
        raise DqRulesError(f"{path} does not exist")
    rules = _load(path, path.stat().st_mtime)
    validate_against_mapping(rules, mapping, f"config/{path.name}")
    return rules


def fx_rates_currencies(path: Path | None = None) -> list[str]:
    """The base currency and every currency with rates in config/fx_rates.yaml (what gold can convert)."""
    path = path or config_dir() / "fx_rates.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    currencies = {document.get("base_currency"), *(document.get("rates") or {})}
    return sorted(c for c in currencies if c)
