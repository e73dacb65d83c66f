"""Azure jobs: ingest (bronze, one run per subscription partition) and transform (silver and gold)."""

import dagster as dg

from ppm_assets.tables import (
    ADVISOR_RECOMMENDATIONS,
    ADVISOR_SUMMARY,
    AZURE_ADVISOR_RAW,
    AZURE_RESOURCES,
    AZURE_RESOURCES_RAW,
)

#: A sensor tick has 60 s: one quick retry of a failed request, a few 429 waits, then the tick says why.
SENSOR_CLIENT = {"max_retries": 1, "max_throttled_retries": 3, "read_timeout_s": 20.0}

azure_ingest_job = dg.define_asset_job(
    name="azure_ingest",
    selection=dg.AssetSelection.assets(AZURE_RESOURCES_RAW.key, AZURE_ADVISOR_RAW.key),
    # No automatic run retry after a failed step: the client already retries 5xx, timeouts and quota answers per
    # request, and a retry cannot grant a missing role (a crashed run is still retried).
    tags={"dagster/retry_on_asset_or_op_failure": "false"},
    description="Inventory (Resource Graph) and Advisor recommendations of one subscription (partition) into bronze.",
)

azure_transform_job = dg.define_asset_job(
    name="azure_transform",
    selection=dg.AssetSelection.assets(AZURE_RESOURCES.key, ADVISOR_RECOMMENDATIONS.key, ADVISOR_SUMMARY.key),
    description="Silver azure_resources and advisor_recommendations, gold advisor_summary, from the latest "
    "bronze snapshot of every subscription.",
)
