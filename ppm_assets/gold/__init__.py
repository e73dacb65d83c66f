"""Gold: the finance marts (budget vs actual, project health, forecast) and the DQ record, SQL in `sql/gold/`.

Resources the assets need: `lakehouse` and `reporting` (`ReportingCurrency`, from PPM_REPORTING_CURRENCY).
"""

from ppm_assets.gold.budget_vs_actual import budget_vs_actual, monthly_periods
from ppm_assets.gold.data_quality_issues import data_quality_issues
from ppm_assets.gold.forecast import forecast
from ppm_assets.gold.project_health import project_health
from ppm_assets.gold.reporting import AsOfConfig, ReportingCurrency

assets = [budget_vs_actual, project_health, forecast]
quality_assets = [data_quality_issues]

__all__ = ["AsOfConfig", "ReportingCurrency", "assets", "monthly_periods", "quality_assets"]
