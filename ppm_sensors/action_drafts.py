"""`ActionDraft`: what the Notion write-back will send as an Action page (DESIGN §8), whatever raised it.

Critical data-quality issues (`quality/dq_actions.py`) and high-impact Advisor recommendations
(`azure/advisor_actions.py`) become drafts. `source_id` is the Action page's `Source ID` property: one page per
source item, never two (`dq:<rule>:<asset>`, `advisor:<recommendation id>`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Drafts named in a sensor's skip reason; the rest are counted.
MAX_LISTED = 10


@dataclass(frozen=True)
class ActionDraft:
    source_id: str
    title: str
    detail: str
    asset: str
    sample_urls: tuple[str, ...] = ()
    project_page_id: str | None = None  # the Action's Project relation, when the source is linked to one


def listed_titles(drafts: Sequence[ActionDraft]) -> str:
    """The first drafts' titles for a skip reason, `; ...` when there are more."""
    return "; ".join(d.title for d in drafts[:MAX_LISTED]) + ("; ..." if len(drafts) > MAX_LISTED else "")
