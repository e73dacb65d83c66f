"""Incremental sync under random edit histories (hypothesis): silver always ends equal to the sandbox."""

import tempfile
import uuid
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.mapping import load_notion_mapping

DATABASE = "budget_lines"
START = datetime(2026, 11, 21, 10, 0, 30, tzinfo=UTC)

edit = st.tuples(st.just("edit"), st.integers(0, 40), st.integers(-1_000, 1_000_000))
create = st.tuples(st.just("create"), st.text("abcdefgh ", max_size=12), st.integers(0, 10_000))
tick = st.tuples(st.just("tick"), st.integers(0, 150))  # seconds: several edits often share one minute
sync = st.tuples(st.just("sync"))
histories = st.lists(st.one_of(edit, edit, create, tick, tick, sync), min_size=1, max_size=25)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories)
def test_incremental_syncs_end_equal_to_the_sandbox(sandbox, make_pipeline, history):
    sandbox.reset()
    sandbox.notion.reset()
    sandbox.clock.freeze(START)
    try:
        pipeline = make_pipeline(
            sandbox,
            LocalLakehouse(root=tempfile.mkdtemp(prefix="history-")),
            load_notion_mapping(),
            token=f"secret_history_{uuid.uuid4().hex}",
        )
        store = sandbox.notion
        page_ids = [page["id"] for page in store.truth(DATABASE)[:41]]
        pipeline.sync([DATABASE])
        for step in history:
            if step[0] == "edit":
                store.edit_page(page_ids[step[1]], {"Amount": step[2], "Name": f"edited {step[2]}"})
            elif step[0] == "create":
                page_ids.append(store.create_page(DATABASE, {"Name": step[1], "Amount": step[2]}).id)
            elif step[0] == "tick":
                sandbox.clock.advance(step[1])
            else:
                pipeline.sync([DATABASE])
        pipeline.sync([DATABASE])
        pipeline.build_silver([DATABASE])
        pipeline.assert_silver_matches_truth(DATABASE)
    finally:
        sandbox.clock.real()
        sandbox.notion.reset()
