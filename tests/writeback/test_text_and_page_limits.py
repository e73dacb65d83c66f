"""Text sent to Notion stays within its limits (pure, any input), and the sandbox enforces those limits the way
Notion counts them (UTF-16 code units), on properties and on a page's blocks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppm_resources.notion.text import MAX_TEXT_CHARS, MAX_TEXT_OBJECTS, clean_text, js_length, rich_text
from ppm_sandbox import DEFAULT_TOKEN, SandboxServer

HEADERS = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Notion-Version": "2022-06-28"}


@given(st.text(max_size=6000), st.booleans())
def test_rich_text_is_always_within_notions_limits(value: str, single_line: bool) -> None:
    items = rich_text(value, single_line=single_line)
    assert len(items) <= MAX_TEXT_OBJECTS
    assert all(0 < js_length(item["text"]["content"]) <= MAX_TEXT_CHARS for item in items)
    joined = "".join(item["text"]["content"] for item in items)
    assert joined == clean_text(value, single_line=single_line)  # under the cap nothing is lost or reordered
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in joined)
    if single_line:
        assert "\n" not in joined and joined == joined.strip()


@given(st.text(min_size=1, max_size=300))
def test_text_over_the_cap_is_cut_with_an_ellipsis(value: str) -> None:
    text = value * 800  # well over 100 objects of 2,000
    items = rich_text(text, max_chars=5000)
    joined = "".join(item["text"]["content"] for item in items)
    cleaned = clean_text(text)
    if js_length(cleaned) > 5000:
        assert joined.endswith("…") and js_length(joined) <= 5000
    else:
        assert joined == cleaned


def _create(server: SandboxServer, properties: dict[str, Any], **body: Any) -> httpx.Response:
    actions = server.notion.database("actions").id
    return httpx.post(
        f"{server.notion_url}/v1/pages",
        headers=HEADERS,
        json={"parent": {"database_id": actions}, "properties": properties, **body},
        timeout=10,
    )


def _title(content: str) -> dict[str, Any]:
    return {"Title": {"title": [{"text": {"content": content}}]}}


@pytest.mark.parametrize(
    ("content", "ok"), [("🚨" * 1000, True), ("🚨" * 1000 + "x", False), ("x" * 2001, False)]
)
def test_the_sandbox_counts_text_length_as_notion_does(
    clean_sandbox: SandboxServer, content: str, ok: bool
) -> None:
    response = _create(clean_sandbox, _title(content))
    assert (response.status_code == 200) is ok, response.text
    if not ok:
        assert response.json()["code"] == "validation_error" and "length should be ≤ `2000`" in response.text


def test_the_sandbox_validates_a_pages_blocks(clean_sandbox: SandboxServer) -> None:
    block = {
        "object": "block",
        "type": "paragraph",
        "paragraph": {"rich_text": [{"text": {"content": "ok"}}]},
    }
    assert _create(clean_sandbox, _title("with a body"), children=[block] * 100).status_code == 200
    too_many = _create(clean_sandbox, _title("too long a body"), children=[block] * 101)
    assert too_many.status_code == 400 and "body.children.length should be ≤ `100`" in too_many.text
    image = _create(clean_sandbox, _title("an image"), children=[{"type": "image", "image": {}}])
    assert image.status_code == 400 and "body.children[0]" in image.text
    long = {"type": "paragraph", "paragraph": {"rich_text": [{"text": {"content": "y" * 2001}}]}}
    assert _create(clean_sandbox, _title("a long paragraph"), children=[long]).status_code == 400
