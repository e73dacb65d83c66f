"""What the gold finance marts share: the reference date, the silver inputs, asset labels."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
from pydantic import Field, field_validator

from ppm_resources.reporting_currency import ReportingCurrency

OWNERS = ["team:finance-data"]
KINDS = {"delta", "sql"}
GROUP = "finance"


def silver_deps(*tables: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["silver", table]) for table in tables]


__all__ = [
    "FINANCE_INPUTS",
    "GROUP",
    "KINDS",
    "OWNERS",
    "AsOfConfig",
    "ReportingCurrency",
    "money",
    "silver_deps",
]

FINANCE_INPUTS = ("budget_lines", "projects", "programs", "fx_rates")


class AsOfConfig(dg.Config):
    """Run configuration of the as-of marts (project health, forecast)."""

    as_of: str | None = Field(
        default=None,
        description="Reference date YYYY-MM-DD the mart is computed as of (default: today, UTC).",
    )

    @field_validator("as_of")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"as_of {value!r} is not a date in YYYY-MM-DD form") from None
        return value

    def as_of_date(self) -> date:
        return date.fromisoformat(self.as_of) if self.as_of else datetime.now(UTC).date()


def money(value: object) -> float:
    """A DECIMAL (or NULL) total as a float for numeric metadata (NULL counts as 0)."""
    return round(float(value), 2) if value is not None else 0.0
