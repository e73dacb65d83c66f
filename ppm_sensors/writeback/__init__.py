"""Write-back automation: the `create_notion_action` job, and run requests for drafts (one run per Source ID).

jobs.py      create_notion_action: the Launchpad form (one Action by hand) or the pending drafts
requests.py  drafts -> run requests (run key = Source ID), none for what the ledger shows as done or a run
             in flight

The sensors that find drafts live with their sources: `quality/dq_actions.py`, `azure/advisor_actions.py`.
"""

import dagster as dg

from ppm_sensors.writeback.jobs import create_notion_action_job

defs = dg.Definitions(jobs=[create_notion_action_job])
