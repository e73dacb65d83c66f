"""A small Databricks SQL tokenizer (pure): enough to recognise statements and find parameter markers.

sqlglot cannot parse several Databricks-only statements (COPY INTO, VACUUM, RESTORE, DESCRIBE HISTORY,
CREATE VOLUME), so the emulator recognises statements from tokens and slices the original text for the parts
it hands to the engine (a CREATE TABLE's SELECT is passed exactly as the client wrote it). Tokens keep their
offsets in the text; comments and white space are dropped.
"""

from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["word", "ident", "string", "number", "param", "op"]


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str  # as written
    value: str  # strings and `identifiers` unquoted; words as written
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.value.upper() if self.kind == "word" else ""

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.value.upper() in words

    def is_op(self, op: str) -> bool:
        return self.kind == "op" and self.value == op


class TokenizeError(ValueError):
    """Unterminated string, identifier or comment."""


_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD_CHARS = _WORD_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")


def _quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """(unquoted value, end) of the literal opening at `start`; `\\x` escapes and doubled quotes."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and quote != "`" and i + 1 < len(text):
            out.append({"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        if char == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise TokenizeError(f"unterminated {quote} at position {start}")


def _path_operator(text: str, i: int) -> bool:
    """`raw:field` right after an expression is a JSON path (Databricks' `:` operator), not a marker."""
    return i > 0 and (text[i - 1] in _WORD_CHARS or text[i - 1] in ")]`")


def tokenize(text: str) -> list[Token]:
    """Tokens of `text`, comments and white space left out."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise TokenizeError(f"unterminated comment at position {i}")
            i = end + 2
        elif char in "'\"":
            value, end = _quoted(text, i, char)
            tokens.append(Token("string", text[i:end], value, i, end))
            i = end
        elif char == "`":
            value, end = _quoted(text, i, "`")
            tokens.append(Token("ident", text[i:end], value, i, end))
            i = end
        elif char in _WORD_START:
            end = i + 1
            while end < n and text[end] in _WORD_CHARS:
                end += 1
            tokens.append(Token("word", text[i:end], text[i:end], i, end))
            i = end
        elif char in _DIGITS or (char == "." and i + 1 < n and text[i + 1] in _DIGITS):
            end = i + 1
            while end < n and (text[end] in _WORD_CHARS or text[end] == "."):
                end += 1
            if end < n and text[end - 1] in "eE" and text[end] in "+-":
                end += 1
                while end < n and text[end] in _DIGITS:
                    end += 1
            tokens.append(Token("number", text[i:end], text[i:end], i, end))
            i = end
        elif text.startswith("::", i):
            tokens.append(Token("op", "::", "::", i, i + 2))
            i += 2
        elif char == ":" and i + 1 < n and text[i + 1] in _WORD_START and not _path_operator(text, i):
            end = i + 2
            while end < n and text[end] in _WORD_CHARS:
                end += 1
            tokens.append(Token("param", text[i:end], text[i + 1 : end], i, end))
            i = end
        else:
            two = text[i : i + 2]
            op = two if two in ("<=", ">=", "<>", "!=", "==", "||", "=>") else char
            tokens.append(Token("op", op, op, i, i + len(op)))
            i += len(op)
    return tokens


def parameter_markers(text: str) -> list[str]:
    """Names of the `:name` markers in `text`, in order of first use (none inside strings or comments)."""
    try:
        tokens = tokenize(text)
    except TokenizeError:
        return []
    return list(dict.fromkeys(t.value for t in tokens if t.kind == "param"))
