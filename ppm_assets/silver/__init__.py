"""Silver: typed, current-state tables."""

from ppm_assets.silver.fx_rates import fx_rates

assets = [fx_rates]
