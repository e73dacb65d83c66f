"""The KQL subset the Resource Graph emulator understands: a parser and an evaluator, pure functions.

    [Resources | ResourceContainers]            table (case-insensitive; omitted = Resources, as in ARG)
    | where <predicate>                         (also `filter`)
    | project a, b, alias = <value>, tags.env   (a path without alias is named like `tags_env`)
    | extend alias = <value>, ...
    | order by <value> [asc|desc] [nulls first|last], ...      (also `sort by`; default desc, as in KQL)
    | limit n | take n | top n by <value> [asc|desc]

    predicate := predicate and predicate | predicate or predicate | not(predicate) | ( predicate )
               | <value> (== != =~ !~) <literal>      == and != are case-sensitive, =~ and !~ are not
               | <value> (in in~ !in !in~) (<literal>, ...)
               | <value> (contains !contains contains_cs startswith !startswith endswith has !has) <literal>
               | isempty(<value>) isnotempty(...) isnull(...) isnotnull(...)
    value     := column | column.path | column['key'] | column[0] | tostring(v) tolower(v) toupper(v) | literal

What KQL does and clients trip over is kept: keywords are lower case, column names are case-sensitive,
and a dynamic bag is looked up case-sensitively, so `tags['ppm-project']` does not see a tag written
`PPM-Project` (Azure treats tag *names* case-insensitively, KQL does not). Comparisons with a missing
value (null) are false, whatever the operator. Valid KQL this module does not emulate (summarize, join,
mv-expand, ...) is refused with a `KqlError` that says so, never answered wrongly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

RESOURCES = "Resources"
RESOURCE_CONTAINERS = "ResourceContainers"
TABLES = {"resources": RESOURCES, "resourcecontainers": RESOURCE_CONTAINERS}
#: Real Resource Graph tables this emulator does not serve.
OTHER_ARG_TABLES = frozenset(
    {
        "advisorresources",
        "alertsmanagementresources",
        "extensibilityresources",
        "guestconfigurationresources",
        "healthresources",
        "iotsecurityresources",
        "kubernetesconfigurationresources",
        "maintenanceresources",
        "patchassessmentresources",
        "patchinstallationresources",
        "policyresources",
        "recoveryservicesresources",
        "resourcechanges",
        "securityresources",
        "servicehealthresources",
        "spotresources",
        "networkresources",
        "appserviceresources",
        "authorizationresources",
        "desktopvirtualizationresources",
    }
)
#: Valid KQL tabular operators that are not emulated.
UNSUPPORTED_OPERATORS = frozenset(
    {
        "summarize",
        "join",
        "union",
        "mv-expand",
        "mvexpand",
        "distinct",
        "parse",
        "lookup",
        "count",
        "sample",
        "sample-distinct",
        "serialize",
        "render",
        "make-series",
        "project-away",
        "project-keep",
        "project-rename",
        "project-reorder",
        "as",
        "invoke",
        "evaluate",
        "search",
        "find",
        "getschema",
        "range",
        "print",
        "let",
    }
)

ErrorKind = Literal["parse", "semantic", "unsupported"]


class KqlError(Exception):
    """A query the service refuses: `kind` parse (syntax), semantic (unknown name) or unsupported."""

    def __init__(self, kind: ErrorKind, message: str, text: str, position: int, token: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.token = token
        self.position = position
        before = text[:position]
        self.line = before.count("\n") + 1
        self.column = position - (before.rfind("\n") + 1)


# Lexer ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ident, string, number, op, eof
    value: str
    position: int
    literal: Any = None


_SYMBOLS = (
    "!contains",
    "!startswith",
    "!has",
    "!in~",
    "!in",
    "==",
    "!=",
    "=~",
    "!~",
    "|",
    ",",
    "(",
    ")",
    "[",
    "]",
    ".",
    "=",
    "-",
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in "'\"" or (ch == "@" and i + 1 < n and text[i + 1] in "'\""):
            tokens.append(_string(text, i))
            i = tokens[-1].position + len(tokens[-1].value)
            continue
        number = _NUMBER.match(text, i)
        if number:
            raw = number.group()
            value: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
            tokens.append(Token("number", raw, i, value))
            i = number.end()
            continue
        ident = _IDENT.match(text, i)
        if ident:
            word = ident.group()
            # `in~` is one operator; `a-b` is an identifier only for dashed operator names (mv-expand).
            if word == "in" and text.startswith("~", ident.end()):
                tokens.append(Token("op", "in~", i))
                i = ident.end() + 1
                continue
            if "-" in word and word.lower() not in UNSUPPORTED_OPERATORS:
                word = word.split("-")[0]
            tokens.append(Token("ident", word, i))
            i += len(word)
            continue
        for symbol in _SYMBOLS:
            if text.startswith(symbol, i) and not (
                symbol[-1].isalpha() and _IDENT.match(text, i + len(symbol))
            ):
                tokens.append(Token("op", symbol, i))
                i += len(symbol)
                break
        else:
            raise KqlError("parse", "ParserFailure", text, i, ch)
    tokens.append(Token("eof", "<EOF>", n))
    return tokens


def _string(text: str, start: int) -> Token:
    verbatim = text[start] == "@"
    quote = text[start + 1] if verbatim else text[start]
    i = start + (2 if verbatim else 1)
    out: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return Token("string", text[start : i + 1], start, "".join(out))
        if ch == "\\" and not verbatim:
            if i + 1 >= len(text):
                break
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        if ch == "\n":
            break
        out.append(ch)
        i += 1
    raise KqlError("parse", "ParserFailure", text, start, text[start:i])


# AST -----------------------------------------------------------------------------------------------

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    path: Path
    position: int


@dataclass(frozen=True, slots=True)
class Const:
    value: Any


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Any, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Any
    right: Any  # a literal, or a tuple of literals for the in-operators


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # and / or
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Negate:
    expr: Any


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: Any
    descending: bool
    nulls_first: bool


@dataclass(frozen=True, slots=True)
class Operator:
    """One `| ...` stage: where (expr), project/extend (items), sort (keys), limit (count)."""

    kind: str
    position: int
    expr: Any = None
    items: tuple[tuple[str, Any], ...] = ()
    keys: tuple[SortKey, ...] = ()
    count: int | None = None


@dataclass(frozen=True)
class Query:
    text: str
    table: str
    operators: tuple[Operator, ...]
    #: Output columns, in order.
    columns: tuple[str, ...]
    #: A limit/take/top caps the result: ARG then never pages it.
    limited: bool

    @property
    def projects_id(self) -> bool:
        return "id" in self.columns


VALUE_FUNCTIONS = frozenset({"tostring", "tolower", "toupper"})
PREDICATE_FUNCTIONS = frozenset({"isempty", "isnotempty", "isnull", "isnotnull", "not"})
COMPARISONS = frozenset({"==", "!=", "=~", "!~"})
MEMBERSHIP = frozenset({"in", "in~", "!in", "!in~"})
STRING_OPERATORS = frozenset(
    {"contains", "!contains", "contains_cs", "startswith", "!startswith", "endswith", "has", "!has"}
)


class _Parser:
    def __init__(self, text: str, schema: Sequence[str]) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.schema = list(schema)

    # token helpers
    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def fail(
        self, token: Token | None = None, kind: ErrorKind = "parse", message: str = "ParserFailure"
    ) -> KqlError:
        tok = token or self.token
        return KqlError(kind, message, self.text, tok.position, tok.value)

    def take(self, value: str | None = None, kind: str | None = None) -> Token:
        tok = self.token
        if (value is not None and tok.value != value) or (kind is not None and tok.kind != kind):
            raise self.fail(tok)
        self.i += 1
        return tok

    def accept(self, value: str) -> bool:
        if self.token.value == value and self.token.kind in ("ident", "op"):
            self.i += 1
            return True
        return False

    # query
    def query(self) -> Query:
        table = RESOURCES
        first = self.token
        if first.kind == "ident" and first.value not in _OPERATOR_WORDS:
            lowered = first.value.lower()
            if lowered in TABLES:
                table = TABLES[lowered]
            elif lowered in OTHER_ARG_TABLES:
                raise self.fail(first, "unsupported", f"table '{first.value}' is not emulated by the sandbox")
            else:
                raise self.fail(
                    first,
                    "semantic",
                    f"'{first.value}': Failed to resolve table or column expression named '{first.value}'",
                )
            self.i += 1
            if self.token.kind == "eof":
                return Query(self.text, table, (), tuple(self.schema), False)
            self.take("|")
        operators: list[Operator] = []
        limited = False
        while True:
            operators.append(self.operator())
            limited = limited or operators[-1].kind in ("limit", "top")
            if self.token.kind == "eof":
                break
            self.take("|")
        return Query(self.text, table, tuple(operators), tuple(self.schema), limited)

    def operator(self) -> Operator:
        tok = self.token
        if tok.kind != "ident":
            raise self.fail(tok)
        word = tok.value
        if word in UNSUPPORTED_OPERATORS or word.lower() in UNSUPPORTED_OPERATORS:
            raise self.fail(
                tok, "unsupported", f"operator '{word}' is valid KQL but not emulated by the sandbox"
            )
        self.i += 1
        if word in ("where", "filter"):
            return Operator("where", tok.position, expr=self.predicate())
        if word in ("project", "extend"):
            items = self.assignments(word)
            if word == "project":
                self.schema = [name for name, _ in items]
            else:
                for name, _ in items:
                    if name not in self.schema:
                        self.schema.append(name)
            return Operator(word, tok.position, items=tuple(items))
        if word in ("order", "sort"):
            self.take("by")
            return Operator("sort", tok.position, keys=self.sort_keys())
        if word in ("limit", "take"):
            return Operator("limit", tok.position, count=self.count())
        if word == "top":
            count = self.count()
            self.take("by")
            return Operator("top", tok.position, keys=self.sort_keys()[:1], count=count)
        raise self.fail(tok)

    def count(self) -> int:
        tok = self.take(kind="number")
        if not isinstance(tok.literal, int):
            raise self.fail(tok)
        return tok.literal

    def assignments(self, operator: str) -> list[tuple[str, Any]]:
        items: list[tuple[str, Any]] = []
        while True:
            tok = self.token
            if (
                tok.kind == "ident"
                and self.tokens[self.i + 1].value == "="
                and self.tokens[self.i + 1].kind == "op"
            ):
                self.i += 2
                items.append((tok.value, self.value(operator)))
            else:
                expr = self.value(operator)
                if not isinstance(expr, Column):
                    raise self.fail(tok)
                items.append((_auto_name(expr), expr))
            if not self.accept(","):
                return items

    def sort_keys(self) -> tuple[SortKey, ...]:
        keys = []
        while True:
            expr = self.value("order")
            descending = True
            if self.accept("asc"):
                descending = False
            elif self.accept("desc"):
                descending = True
            nulls_first = not descending
            if self.accept("nulls"):
                if self.accept("first"):
                    nulls_first = True
                else:
                    self.take("last")
                    nulls_first = False
            keys.append(SortKey(expr, descending, nulls_first))
            if not self.accept(","):
                return tuple(keys)

    # predicates
    def predicate(self) -> Any:
        items = [self.conjunction()]
        while self.accept("or"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Logical("or", tuple(items))

    def conjunction(self) -> Any:
        items = [self.atom()]
        while self.accept("and"):
            items.append(self.atom())
        return items[0] if len(items) == 1 else Logical("and", tuple(items))

    def atom(self) -> Any:
        tok = self.token
        if tok.value == "(" and tok.kind == "op":
            self.i += 1
            inner = self.predicate()
            self.take(")")
            return inner
        if tok.kind == "ident" and tok.value in PREDICATE_FUNCTIONS and self.tokens[self.i + 1].value == "(":
            self.i += 2
            inner = self.predicate() if tok.value == "not" else self.value("where")
            self.take(")")
            return Negate(inner) if tok.value == "not" else Call(tok.value, (inner,), tok.position)
        left = self.value("where")
        op = self.token
        if op.value in COMPARISONS and op.kind == "op":
            self.i += 1
            return Compare(op.value, left, self.literal())
        if op.value in MEMBERSHIP:
            self.i += 1
            self.take("(")
            values = [self.literal()]
            while self.accept(","):
                values.append(self.literal())
            self.take(")")
            return Compare(op.value, left, tuple(values))
        if op.value in STRING_OPERATORS:
            self.i += 1
            right = self.literal()
            if not isinstance(right, str):
                raise self.fail(op)
            return Compare(op.value, left, right)
        if op.kind == "ident" and op.value.lower() in STRING_OPERATORS | {
            "matches",
            "has_any",
            "has_all",
            "between",
        }:
            raise self.fail(op, "unsupported", f"operator '{op.value}' is not emulated by the sandbox")
        raise self.fail(op)

    def literal(self) -> Any:
        tok = self.token
        if tok.kind in ("string", "number"):
            self.i += 1
            return tok.literal
        if tok.kind == "ident" and tok.value in ("true", "false"):
            self.i += 1
            return tok.value == "true"
        raise self.fail(tok)

    def value(self, operator: str) -> Any:
        tok = self.token
        if tok.kind in ("string", "number") or (tok.kind == "ident" and tok.value in ("true", "false")):
            return Const(self.literal())
        if tok.kind != "ident":
            raise self.fail(tok)
        if self.tokens[self.i + 1].value == "(" and self.tokens[self.i + 1].kind == "op":
            if tok.value not in VALUE_FUNCTIONS:
                raise self.fail(tok, "unsupported", f"function '{tok.value}' is not emulated by the sandbox")
            self.i += 2
            arg = self.value(operator)
            self.take(")")
            return Call(tok.value, (arg,), tok.position)
        if tok.value in _OPERATOR_WORDS:
            raise self.fail(tok)
        self.i += 1
        if tok.value not in self.schema:
            raise self.fail(
                tok,
                "semantic",
                f"'{operator}' operator: Failed to resolve scalar expression named '{tok.value}'",
            )
        path: list[str | int] = []
        while True:
            if self.token.value == "." and self.token.kind == "op":
                self.i += 1
                path.append(self.take(kind="ident").value)
            elif self.token.value == "[" and self.token.kind == "op":
                self.i += 1
                key = self.token
                if key.kind not in ("string", "number") or (
                    key.kind == "number" and not isinstance(key.literal, int)
                ):
                    raise self.fail(key)
                self.i += 1
                path.append(key.literal)
                self.take("]")
            else:
                return Column(tok.value, tuple(path), tok.position)


_OPERATOR_WORDS = frozenset(
    {"where", "filter", "project", "extend", "order", "sort", "limit", "take", "top", "by", "and", "or"}
    | UNSUPPORTED_OPERATORS
)


def _auto_name(column: Column) -> str:
    """`tags.env` -> `tags_env`, `tags['ppm-project']` -> `tags_ppm_project` (as KQL names them)."""
    parts = [column.name, *(str(p) for p in column.path)]
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def parse(text: str, schema: Sequence[str]) -> Query:
    """Parse and check `text` against the table columns `schema`; raises `KqlError`."""
    if not text.strip():
        raise KqlError("parse", "ParserFailure", text, len(text), "<EOF>")
    return _Parser(text, schema).query()


# Evaluation ----------------------------------------------------------------------------------------

Row = dict[str, Any]
Getter = Callable[[Row], Any]


def _text(value: Any) -> str | None:
    """`tostring`: strings as they are, JSON for dynamic values, None for null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


def _getter(node: Any) -> Getter:
    if isinstance(node, Const):
        value = node.value
        return lambda row: value
    if isinstance(node, Column):
        name, path = node.name, node.path
        if not path:
            return lambda row: row.get(name)

        def walk(row: Row) -> Any:
            value = row.get(name)
            for step in path:
                if isinstance(step, str) and isinstance(value, dict):
                    value = value.get(step)
                elif isinstance(step, int) and isinstance(value, list):
                    value = value[step] if -len(value) <= step < len(value) else None
                else:
                    return None
            return value

        return walk
    if isinstance(node, Call):
        inner = _getter(node.args[0])
        if node.name == "tostring":
            return lambda row: _text(inner(row)) or ""
        if node.name == "tolower":
            return lambda row: (_text(inner(row)) or "").lower()
        if node.name == "toupper":
            return lambda row: (_text(inner(row)) or "").upper()
    raise TypeError(f"not a value expression: {node!r}")


def _same_number(value: Any, literal: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == literal


def _equals(value: Any, literal: Any, fold: bool) -> bool:
    if isinstance(literal, str):
        text = value if isinstance(value, str) else None
        if text is None:
            return False
        return text.lower() == literal.lower() if fold else text == literal
    if isinstance(literal, bool):
        return value is literal
    return _same_number(value, literal)


def _predicate(node: Any) -> Callable[[Row], bool]:
    if isinstance(node, Logical):
        parts = [_predicate(item) for item in node.items]
        if node.op == "and":
            return lambda row: all(p(row) for p in parts)
        return lambda row: any(p(row) for p in parts)
    if isinstance(node, Negate):
        inner = _predicate(node.expr)
        return lambda row: not inner(row)
    if isinstance(node, Call):
        get = _getter(node.args[0])
        if node.name == "isnull":
            return lambda row: get(row) is None
        if node.name == "isnotnull":
            return lambda row: get(row) is not None
        if node.name == "isempty":
            return lambda row: get(row) in (None, "")
        if node.name == "isnotempty":
            return lambda row: get(row) not in (None, "")
    if isinstance(node, Compare):
        return _comparison(node)
    raise TypeError(f"not a predicate: {node!r}")


def _comparison(node: Compare) -> Callable[[Row], bool]:
    get, op, right = _getter(node.left), node.op, node.right
    if op in COMPARISONS:
        fold = op in ("=~", "!~")
        negate = op in ("!=", "!~")

        def compare(row: Row) -> bool:
            value = get(row)
            if value is None:
                return False  # null compares as false, whatever the operator
            return _equals(value, right, fold) != negate

        return compare
    if op in MEMBERSHIP:
        fold = op.endswith("~")
        negate = op.startswith("!")

        def member(row: Row) -> bool:
            value = get(row)
            if value is None:
                return False
            return any(_equals(value, item, fold) for item in right) != negate

        return member
    needle = right.lower() if not op.endswith("_cs") else right
    negate = op.startswith("!")
    base = op.lstrip("!").removesuffix("_cs")

    def string_test(row: Row) -> bool:
        text = _text(get(row))
        if text is None:
            return False
        hay = text if op.endswith("_cs") else text.lower()
        if base == "contains":
            found = needle in hay
        elif base == "startswith":
            found = hay.startswith(needle)
        elif base == "endswith":
            found = hay.endswith(needle)
        else:  # has: whole term
            found = re.search(rf"(?<![A-Za-z0-9]){re.escape(needle)}(?![A-Za-z0-9])", hay) is not None
        return found != negate

    return string_test


def _sortable(value: Any) -> tuple[Any, ...]:
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    return (4, json.dumps(value, sort_keys=True))


def _sort(rows: list[Row], keys: Sequence[SortKey]) -> list[Row]:
    # Stable sorts from the last key to the first; KQL puts nulls first ascending, last descending.
    for key in reversed(keys):
        get = _getter(key.expr)
        default_nulls = key.nulls_first != key.descending
        if default_nulls:
            rows.sort(key=lambda row, g=get: _sortable(g(row)), reverse=key.descending)
        else:
            rows.sort(key=lambda row, g=get: (g(row) is None, _sortable(g(row))), reverse=key.descending)
    return rows


def execute(query: Query, rows: Iterable[Row]) -> list[Row]:
    """Run `query` over the table's rows (dicts with every column); returns the output rows."""
    stream: Iterable[Row] = rows
    for op in query.operators:
        stream = _apply(op, stream)
    return list(stream)


def _apply(op: Operator, rows: Iterable[Row]) -> Iterable[Row]:
    if op.kind == "where":
        test = _predicate(op.expr)
        return (row for row in rows if test(row))
    if op.kind == "project":
        getters = [(name, _getter(expr)) for name, expr in op.items]
        return ({name: get(row) for name, get in getters} for row in rows)
    if op.kind == "extend":
        getters = [(name, _getter(expr)) for name, expr in op.items]

        def extend(source: Iterable[Row]) -> Iterator[Row]:
            for row in source:
                values = {name: get(row) for name, get in getters}
                yield {**row, **values}

        return extend(rows)
    if op.kind == "sort":
        return _sort(list(rows), op.keys)
    if op.kind == "limit":
        return _head(rows, op.count or 0)
    if op.kind == "top":
        return _sort(list(rows), op.keys)[: op.count or 0]
    return rows


def _head(rows: Iterable[Row], count: int) -> Iterator[Row]:
    if count <= 0:
        return
    for n, row in enumerate(rows, 1):
        yield row
        if n >= count:
            return
