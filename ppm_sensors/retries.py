"""Run retries of the data jobs: `dagster.yaml` `run_retries` re-executes from the failed step, not from scratch."""

RETRY_TAGS = {"dagster/max_retries": "2", "dagster/retry_strategy": "FROM_FAILURE"}
