"""The Azure area: inventory (Resource Graph) and recommendations (Advisor) per subscription, linked to projects.

bronze_rows.py   the bronze row contract: Arrow schemas, rows from Resource Graph / Advisor JSON (pure)
ingest.py        one subscription read into a bronze snapshot
bronze.py        `bronze/azure_resources`, `bronze/azure_advisor` (dynamic partitions per subscription)
silver_gold.py   `silver/azure_resources`, `silver/advisor_recommendations`, `gold/advisor_summary` (SQL in sql/)

Resources: `lakehouse`, `azure` (`AzureResource`), `reporting`.
"""

import dagster as dg

from ppm_assets.azure.bronze import azure_advisor_raw, azure_resources_raw
from ppm_assets.azure.silver_gold import advisor_recommendations, advisor_summary, azure_resources

defs = dg.Definitions(
    assets=[azure_resources_raw, azure_advisor_raw, azure_resources, advisor_recommendations, advisor_summary]
)
