"""Every data-quality rule of the lakehouse, built from config/notion_mapping.yaml and config/dq_rules.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from ppm_assets.tables import FX_RATES
from ppm_checks.accepted_values import accepted_values_rule
from ppm_checks.config import FX_RATES_CURRENCIES, DqRules, RowCountBounds, fx_rates_currencies
from ppm_checks.parseable import parseable_rule
from ppm_checks.ranges import bounds_rule, not_before_rule
from ppm_checks.references import orphan_rule
from ppm_checks.required import required_rules
from ppm_checks.rules import RowRule, Severity
from ppm_resources.notion.mapping import DatabaseMapping, NotionMapping

#: Keys of the tables that are not Notion tables (Notion tables are keyed by page_id).
OTHER_KEYS: dict[str, tuple[str, ...]] = {FX_RATES.name: ("currency", "to_currency", "month")}
NOTION_KEY = ("page_id",)


@dataclass(frozen=True)
class TableRules:
    """The rules of one silver Notion table."""

    database_name: str
    table: str  # silver.<table>
    row_rules: tuple[RowRule, ...]
    row_counts: RowCountBounds

    @property
    def silver_table(self) -> str:
        return self.table.split(".", 1)[1]


@dataclass(frozen=True)
class RuleCatalog:
    tables: tuple[TableRules, ...]
    rules: DqRules

    def severity(self, family: str) -> Severity:
        return getattr(self.rules.severities, family)

    @property
    def min_score_pct(self) -> float:
        return self.rules.dq_score.min_pct

    def table(self, table: str) -> TableRules:
        for entry in self.tables:
            if entry.table == table:
                return entry
        raise KeyError(f"no rules for {table!r}; tables: {', '.join(t.table for t in self.tables)}")


def table_row_rules(database: DatabaseMapping, rules: DqRules, currencies: list[str]) -> tuple[RowRule, ...]:
    """Required, accepted values, ranges, references and parseable values of one table, in that order."""
    name, table = database.silver_table, database.silver_table_name
    built: list[RowRule] = required_rules(database, rules.required.get(name, []))
    for column, values in rules.accepted_values.get(name, {}).items():
        listed = currencies if values == FX_RATES_CURRENCIES else values
        built.append(accepted_values_rule(table, column, listed))
    for entry in rules.ranges.get(name, []):
        if entry.not_before is not None:
            built.append(not_before_rule(table, entry.column, entry.not_before))
        else:
            built.append(bounds_rule(table, entry.column, entry.min, entry.max))
    for column, parent in rules.references.get(name, {}).items():
        built.append(orphan_rule(table, column, f"silver.{parent}"))
    if any(c.kind.parsed for c in database.columns):
        built.append(parseable_rule(table))
    names = [rule.name for rule in built]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{table}: two rules are both named {', '.join(duplicates)} (config/dq_rules.yaml)")
    return tuple(built)


def build_catalog(mapping: NotionMapping, rules: DqRules, currencies: list[str] | None = None) -> RuleCatalog:
    """The rules of every silver Notion table of `mapping`."""
    currencies = currencies if currencies is not None else fx_rates_currencies()
    tables = tuple(
        TableRules(
            database_name=name,
            table=database.silver_table_name,
            row_rules=table_row_rules(database, rules, currencies),
            row_counts=rules.row_count_bounds(database.silver_table),
        )
        for name, database in mapping.databases.items()
    )
    return RuleCatalog(tables=tables, rules=rules)
