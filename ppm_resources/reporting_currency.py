"""`ReportingCurrency`: the currency the gold finance marts report in."""

import dagster as dg
from pydantic import Field


class ReportingCurrency(dg.ConfigurableResource):
    """The currency every gold finance mart reports in (setting `PPM_REPORTING_CURRENCY`, default USD).

    Amounts are converted with `silver.fx_rates`, so the currency needs rates there (the base currency
    always has them).
    """

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD.")
