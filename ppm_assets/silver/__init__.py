"""Silver: typed, current-state tables."""

from ppm_assets.silver.fx_rates import fx_rates
from ppm_assets.silver.notion_tables import notion_silver_assets

assets = [fx_rates, *notion_silver_assets()]
