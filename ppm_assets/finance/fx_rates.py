"""`silver/fx_rates`: monthly FX rates from `config/fx_rates.yaml`, the gold marts' currency conversion."""

import re
from datetime import date
from pathlib import Path

import dagster as dg
import pyarrow as pa
import yaml
from pydantic import BaseModel, Field, field_validator

from ppm_assets.metadata import markdown_preview, table_metadata
from ppm_assets.tables import FX_RATES
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.paths import config_dir

TABLE = FX_RATES.name
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class FxRatesConfig(BaseModel):
    """`config/fx_rates.yaml`: units of the base currency per unit of each currency, by month."""

    base_currency: str = Field(pattern=r"^[A-Z]{3}$")
    rates: dict[str, dict[str, float]]

    @field_validator("rates")
    @classmethod
    def _check_rates(cls, rates: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for currency, by_month in rates.items():
            if not re.match(r"^[A-Z]{3}$", currency):
                raise ValueError(f"currency {currency!r} is not an ISO 4217 code such as EUR")
            months = sorted(by_month)
            for month in months:
                if not _MONTH.match(month):
                    raise ValueError(f"{currency}: month {month!r} is not in YYYY-MM form")
                if by_month[month] <= 0:
                    raise ValueError(f"{currency} {month}: rate {by_month[month]} must be positive")
            gaps = _missing_months(months)
            if gaps:
                raise ValueError(f"{currency}: no rate for {', '.join(gaps)} (months must be contiguous)")
        return rates


def _month_start(month: str) -> date:
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def _missing_months(months: list[str]) -> list[str]:
    if not months:
        return []
    first, last = _month_start(months[0]), _month_start(months[-1])
    present, missing = set(months), []
    current = first
    while current <= last:
        key = f"{current.year}-{current.month:02d}"
        if key not in present:
            missing.append(key)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return missing


def load_fx_rates(path: Path) -> FxRatesConfig:
    with path.open(encoding="utf-8") as handle:
        return FxRatesConfig.model_validate(yaml.safe_load(handle))


def fx_rates_table(config: FxRatesConfig) -> pa.Table:
    """One row per (currency, month); the base currency converts at 1.0 in every month covered."""
    months = sorted({month for by_month in config.rates.values() for month in by_month})
    rows = [(config.base_currency, month, 1.0) for month in months]
    rows += [
        (currency, month, rate)
        for currency, by_month in sorted(config.rates.items())
        for month, rate in sorted(by_month.items())
    ]
    return pa.table(
        {
            "currency": pa.array([r[0] for r in rows], pa.string()),
            "month": pa.array([_month_start(r[1]) for r in rows], pa.date32()),
            "rate_to_base": pa.array([r[2] for r in rows], pa.float64()),
            "base_currency": pa.array([config.base_currency] * len(rows), pa.string()),
        }
    )


@dg.asset(
    key=FX_RATES.key,
    group_name="finance",
    kinds={"delta", "yaml"},
    owners=["team:finance-data"],
    code_version="1",
    description="Monthly FX rates (units of the base currency per unit) from config/fx_rates.yaml.",
)
def fx_rates(context: dg.AssetExecutionContext, lakehouse: Lakehouse) -> dg.MaterializeResult:
    config = load_fx_rates(config_dir() / "fx_rates.yaml")
    table = fx_rates_table(config)
    write = lakehouse.replace(TABLE, table)
    context.log.info("wrote %d rates for %d currencies", write.rows_written, len(config.rates) + 1)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(lakehouse, TABLE, write),
            "currencies": dg.MetadataValue.int(len(config.rates) + 1),
            "preview": markdown_preview(table),
        }
    )
