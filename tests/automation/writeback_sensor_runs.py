"""What the tests of the two write-back sensors share: write-back runs in every state a sensor meets, ledger
rows, and the checks of a tick's run requests (`SensorRuns("dq", "dq_critical_issues_to_actions")`)."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin

from ppm_assets.tables import NOTION_WRITEBACKS
from ppm_assets.writeback.ledger import ledger_rows
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.writeback.drafts import ActionDraft
from ppm_resources.writeback.writer import ActionResult, Outcome
from ppm_sensors.writeback.jobs import JOB_NAME, writeback_config

#: A queued run needs the origin of its job in a code location (the run queue launches it from there).
ORIGIN = RemoteJobOrigin(
    RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("finance_ppm"), "__repository__"), JOB_NAME
)
#: Where an earlier run for an item is: in flight (the sensor waits for it) or finished without a page.
IN_FLIGHT = ["not_started", "queued", "started", "canceling", "will_retry"]
FINISHED = ["failed", "canceled", "retries_exhausted", "succeeded"]
#: The run events that take a new (NOT_STARTED) run to each state, and the run status they leave.
EVENTS: dict[str, tuple[tuple[str, ...], dg.DagsterRunStatus]] = {
    "not_started": ((), dg.DagsterRunStatus.NOT_STARTED),
    "queued": ((), dg.DagsterRunStatus.QUEUED),
    "started": (("PIPELINE_START",), dg.DagsterRunStatus.STARTED),
    "canceling": (("PIPELINE_START", "PIPELINE_CANCELING"), dg.DagsterRunStatus.CANCELING),
    "will_retry": (("PIPELINE_START", "PIPELINE_FAILURE"), dg.DagsterRunStatus.FAILURE),
    "failed": (("PIPELINE_START", "PIPELINE_FAILURE"), dg.DagsterRunStatus.FAILURE),
    "retries_exhausted": (("PIPELINE_START", "PIPELINE_FAILURE"), dg.DagsterRunStatus.FAILURE),
    "canceled": (("PIPELINE_START", "PIPELINE_CANCELED"), dg.DagsterRunStatus.CANCELED),
    "succeeded": (("PIPELINE_START", "PIPELINE_SUCCESS"), dg.DagsterRunStatus.SUCCESS),
}
#: The `dagster/will_retry` tag Dagster's run retries put on a failed run.
WILL_RETRY = {"will_retry": "true", "retries_exhausted": "false"}


def skipped(result: dg.SensorExecutionData) -> str:
    assert not result.run_requests
    assert result.skip_message
    return result.skip_message


@dataclass(frozen=True)
class SensorRuns:
    """Runs, ledger rows and request checks for the drafts of one source, requested by one sensor."""

    source: str  # "dq" or "advisor"
    sensor: str

    def requested(self, result: dg.SensorExecutionData, job: dg.JobDefinition) -> list[str]:
        """The run keys of the tick's requests, after checking each is a valid write-back run of one Source ID
        (the run key, without its `#<earlier runs>` suffix) with exactly the sensor's tags."""
        for request in result.run_requests:
            source_id = request.tags["ppm/source_id"]
            assert request.job_name == JOB_NAME
            assert request.run_key is not None
            assert request.run_key.split("#")[0] == source_id
            assert request.tags == {
                "ppm/source_id": source_id,
                "ppm/action_source": self.source,
                "dagster/sensor_name": self.sensor,
            }
            assert request.run_config == writeback_config(source_ids=[source_id])
            dg.validate_run_config(job, request.run_config)
        if result.run_requests:
            assert result.skip_message is None
        return [request.run_key for request in result.run_requests]

    def run(
        self, instance: dg.DagsterInstance, job: dg.JobDefinition, source_id: str, run_key: str, state: str
    ) -> dg.DagsterRun:
        """A write-back run for ``source_id`` as the sensor requests it (its tags, run key and config), in
        ``state``."""
        events, status = EVENTS[state]
        queued = state == "queued"
        run = instance.create_run_for_job(
            job_def=job,
            run_config=writeback_config(source_ids=[source_id]),
            tags={
                "ppm/source_id": source_id,
                "ppm/action_source": self.source,
                "dagster/sensor_name": self.sensor,
                "dagster/run_key": run_key,
            },
            status=dg.DagsterRunStatus.QUEUED if queued else None,
            remote_job_origin=ORIGIN if queued else None,
        )
        for event in events:
            instance.report_dagster_event(
                dg.DagsterEvent(event_type_value=dg.DagsterEventType[event].value, job_name=JOB_NAME),
                run_id=run.run_id,
            )
        if state in WILL_RETRY:
            instance.add_run_tags(run.run_id, {"dagster/will_retry": WILL_RETRY[state]})
        stored = instance.get_run_by_id(run.run_id)
        assert stored is not None
        assert stored.status == status
        return stored

    def retry(
        self, instance: dg.DagsterInstance, job: dg.JobDefinition, failed: dg.DagsterRun, state: str
    ) -> dg.DagsterRun:
        """Dagster's automatic retry of ``failed``, in ``state``: a new run with the failed run's tags (its Source
        ID and run key) but its retry tags; the failed run keeps `dagster/will_retry=true` and names its retry."""
        assert failed.tags["dagster/will_retry"] == "true"
        retry = self.run(instance, job, failed.tags["ppm/source_id"], failed.tags["dagster/run_key"], state)
        instance.add_run_tags(retry.run_id, {"dagster/retry_number": "1"})
        instance.add_run_tags(failed.run_id, {"dagster/auto_retry_run_id": retry.run_id})
        return retry

    def launch(
        self,
        instance: dg.DagsterInstance,
        job: dg.JobDefinition,
        result: dg.SensorExecutionData,
        state: str = "not_started",
    ) -> None:
        """The runs the daemon makes of the tick's requests, in ``state``."""
        for request in result.run_requests:
            assert request.run_key is not None
            self.run(instance, job, request.tags["ppm/source_id"], request.run_key, state)

    def ledger(self, lakehouse: LocalLakehouse, source_id: str, outcome: Outcome) -> None:
        """A write-back run's ledger row for ``source_id``."""
        draft = ActionDraft(
            source=self.source,  # type: ignore[arg-type]
            source_id=source_id,
            title=f"Fix {source_id}",
            requested_by="sensor",
        )
        page = "0123456789abcdef0123456789abcdef" if outcome != "failed" else None
        result = ActionResult(
            draft, outcome, page_id=page, error="HTTP 400" if outcome == "failed" else None, create_requests=1
        )
        rows = ledger_rows([result], run_id="run-x", api_version="2025-09-03")
        lakehouse.append(NOTION_WRITEBACKS.name, rows)
