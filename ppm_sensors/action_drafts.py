"""`ActionDraft`: what the Notion write-back will send as an Action page (DESIGN §8), whatever raised it.

Critical data-quality issues (`quality/dq_actions.py`) and high-impact Advisor recommendations
(`azure/advisor_actions.py`) become drafts. `source_id` is the Action page's `Source ID` property: one page per
source item, never two (`dq:<rule>:<asset>`, `advisor:<recommendation id>`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ActionDraft:
    source_id: str
    title: str
    detail: str
    asset: str
    sample_urls: tuple[str, ...] = ()
    project_page_id: str | None = None  # the Action's Project relation, when the source is linked to one
