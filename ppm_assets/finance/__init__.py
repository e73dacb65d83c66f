"""The finance area: FX rates and the gold marts (budget vs actual, project health, forecast), SQL in `sql/gold/`.

fx_rates.py          `silver/fx_rates` from config/fx_rates.yaml
budget_vs_actual.py  `gold/budget_vs_actual`, monthly partitions
project_health.py    `gold/project_health`
forecast.py          `gold/forecast`
marts.py             what the marts share: labels, silver inputs, the as-of date config
exclusions.py        budget lines left out of gold, and why

Resources the assets need: `lakehouse` and `reporting` (`ReportingCurrency`, from PPM_REPORTING_CURRENCY).
"""

import dagster as dg

from ppm_assets.finance.budget_vs_actual import budget_vs_actual
from ppm_assets.finance.forecast import forecast
from ppm_assets.finance.fx_rates import fx_rates
from ppm_assets.finance.project_health import project_health

defs = dg.Definitions(assets=[fx_rates, budget_vs_actual, project_health, forecast])
