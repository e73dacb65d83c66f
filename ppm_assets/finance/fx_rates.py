"""`silver/fx_rates`: monthly FX rates from `config/fx_rates.yaml`, the gold marts' currency conversion.

Rates are exact decimals end to end: the YAML numbers are read as their decimal text (never through a float),
stored as DECIMAL(16,10), and every pair of currencies gets its own rate here, so the SQL converts money by one
exact multiplication and never divides decimals (DuckDB would divide them in DOUBLE).
"""

import re
from datetime import date
from decimal import Decimal
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

#: Decimal places of every stored rate; a cross rate is rounded half up to this many.
RATE_SCALE = 10
#: DECIMAL(16,10): with amounts DECIMAL(20,2) a product has precision 37, exact on DuckDB, Spark and Databricks.
RATE_TYPE = pa.decimal128(16, RATE_SCALE)
_RATE_LIMIT = Decimal(10) ** (16 - RATE_SCALE)
_RATE_QUANTUM = Decimal(1).scaleb(-RATE_SCALE)


class FxRatesConfig(BaseModel):
    """`config/fx_rates.yaml`: units of the base currency per unit of each currency, by month."""

    base_currency: str = Field(pattern=r"^[A-Z]{3}$")
    rates: dict[str, dict[str, Decimal]]

    @field_validator("rates")
    @classmethod
    def _check_rates(cls, rates: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, Decimal]]:
        for currency, by_month in rates.items():
            if not re.match(r"^[A-Z]{3}$", currency):
                raise ValueError(f"currency {currency!r} is not an ISO 4217 code such as EUR")
            months = sorted(by_month)
            for month in months:
                if not _MONTH.match(month):
                    raise ValueError(f"{currency}: month {month!r} is not in YYYY-MM form")
                _check_rate(f"{currency} {month}", by_month[month])
            gaps = _missing_months(months)
            if gaps:
                raise ValueError(f"{currency}: no rate for {', '.join(gaps)} (months must be contiguous)")
        return rates


def _check_rate(where: str, rate: Decimal) -> None:
    if not rate.is_finite() or rate <= 0:
        raise ValueError(f"{where}: rate {rate} must be positive")
    if rate >= _RATE_LIMIT:
        raise ValueError(f"{where}: rate {rate} is too large (at most {_RATE_LIMIT - _RATE_QUANTUM})")
    if rate != rate.quantize(_RATE_QUANTUM):
        raise ValueError(f"{where}: rate {rate} has more than {RATE_SCALE} decimal places")


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


class _DecimalLoader(yaml.SafeLoader):
    """YAML with floats read as `Decimal` from their text: 0.017070 stays 0.017070, never a binary fraction."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))  # type: ignore[arg-type]


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def load_fx_rates(path: Path) -> FxRatesConfig:
    with path.open(encoding="utf-8") as handle:
        return FxRatesConfig.model_validate(yaml.load(handle, Loader=_DecimalLoader))


def cross_rate(rate_from: Decimal, rate_to: Decimal) -> Decimal:
    """Units of the target currency per unit of the source: the two rates to base divided, half up to 10 places.

    In integers, so the rounding is of the exact quotient (a Decimal division would round it to 28 digits first).
    """
    numerator, denominator = int(rate_from.scaleb(RATE_SCALE)), int(rate_to.scaleb(RATE_SCALE))
    units = (2 * numerator * 10**RATE_SCALE + denominator) // (2 * denominator)  # positive: half up
    return Decimal(units).scaleb(-RATE_SCALE)


def fx_rates_table(config: FxRatesConfig) -> pa.Table:
    """One row per (currency, to_currency, month) where both currencies have a rate that month.

    The base currency converts at exactly 1 in every month covered; a currency converts to itself at exactly 1
    and to the base currency at exactly its configured rate.
    """
    months = sorted({month for by_month in config.rates.values() for month in by_month})
    to_base: dict[str, dict[str, Decimal]] = {config.base_currency: dict.fromkeys(months, Decimal(1))}
    to_base.update(config.rates)
    rows = [
        (currency, target, month, cross_rate(by_month[month], target_rates[month]), by_month[month])
        for currency, by_month in sorted(to_base.items())
        for target, target_rates in sorted(to_base.items())
        for month in sorted(by_month)
        if month in target_rates
    ]
    return pa.table(
        {
            "currency": pa.array([r[0] for r in rows], pa.string()),
            "to_currency": pa.array([r[1] for r in rows], pa.string()),
            "month": pa.array([_month_start(r[2]) for r in rows], pa.date32()),
            "rate": pa.array([r[3] for r in rows], RATE_TYPE),
            "rate_to_base": pa.array([r[4] for r in rows], RATE_TYPE),
            "base_currency": pa.array([config.base_currency] * len(rows), pa.string()),
        }
    )


@dg.asset(
    key=FX_RATES.key,
    group_name="finance",
    kinds={"delta", "yaml"},
    owners=["team:finance-data"],
    code_version="2",
    description="Monthly FX rates from config/fx_rates.yaml: for every pair of currencies, units of `to_currency` "
    "per unit of `currency` (exact decimals).",
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
