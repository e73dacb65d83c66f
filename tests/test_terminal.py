"""`printable`: lakehouse text on a terminal cannot drive it (escape sequences, carriage returns, bidi overrides),
and text that is already printable is left exactly as it is."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from ppm_cli.cli import format_table
from ppm_cli.terminal import printable, printable_lines

BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"

# Any code point, lone surrogates included (they reach us from JSON such as "\ud800").
any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()))
printable_text = st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")))


def is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"  # C0, DEL and C1


@given(any_text)
def test_the_output_holds_no_control_or_bidi_character_and_can_be_encoded(text: str) -> None:
    shown = printable(text)
    assert not any(is_control(char) or char in BIDI_CONTROLS for char in shown)
    shown.encode("utf-8")  # no lone surrogate left to break the terminal's encoder


@given(printable_text)
def test_printable_text_is_unchanged(text: str) -> None:
    assert printable(text) == text


@given(any_text)
def test_escaping_is_idempotent_and_keeps_line_breaks_on_request(text: str) -> None:
    assert printable(printable(text)) == printable(text)
    assert printable_lines(text).split("\n") == [printable(line) for line in text.split("\n")]


def test_hostile_characters_become_visible_escapes() -> None:
    assert printable("\x1b[2JBudget\r\nFY25\t\x00\x7f\x9b") == "\\x1b[2JBudget\\r\\nFY25\\t\\x00\\x7f\\x9b"
    assert printable("invoice\u202efdp.exe") == "invoice\\u202efdp.exe"
    assert printable("a\u200bb\ufeff\u2028") == "a\\u200bb\\ufeff\\u2028"
    assert printable("\ud800") == "\\ud800"
    assert printable("hidden\U000e0041\U000e0042") == "hidden\\U000e0041\\U000e0042"  # tags alone: invisible


def test_accents_scripts_and_emoji_sequences_are_kept() -> None:
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # needs its zero-width non-joiner
    for text in (
        "Café Zürich",
        "東京 프로젝트",
        "مشروع",
        "👩\u200d💻 👍🏽 ❤️",
        ENGLAND,
        persian,
        "1\u00a0000 €",
    ):
        assert printable(text) == text


def test_status_and_query_tables_escape_their_cells() -> None:
    rows = [{"name": "sync\x1b[31m", "error": "page \u202etxt.exe\r\nfailed", "note": None}]
    header, row = format_table(rows).splitlines()
    assert header.split() == ["name", "error", "note"]
    assert row == "sync\\x1b[31m  page \\u202etxt.exe\\r\\nfailed"
