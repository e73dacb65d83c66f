"""Recognising the statements the emulator runs (pure functions over the statement text).

`classify(text)` returns one of the statement dataclasses below, or raises a `StatementError`
(`PARSE_SYNTAX_ERROR`, naming what is not supported). Databricks-only statements (COPY INTO, VACUUM, RESTORE,
DESCRIBE HISTORY, CREATE VOLUME) are recognised from tokens (`tokens.py`), because sqlglot cannot parse them;
the SELECT part of a CREATE TABLE AS or an INSERT is sliced out of the original text, so the engine gets the
client's SQL as written. Queries are inspected with sqlglot only to find the catalogs they name and, when the
request sets a default schema, to qualify the table names that have none.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from ppm_sandbox.databricks.errors import StatementError, parse_error, unsupported
from ppm_sandbox.databricks.tokens import Token, TokenizeError, tokenize

_QUERY_START = ("SELECT", "WITH", "VALUES", "FROM", "TABLE")


@dataclass(frozen=True)
class Name:
    """An object name as written, 1 to 3 parts, lower-cased (Databricks names are case-insensitive)."""

    parts: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Param:
    """A `:name` marker used as a value (REPLACE WHERE)."""

    name: str


Value = str | int | Decimal | date | datetime | Param


@dataclass(frozen=True)
class Query:
    sql: str


@dataclass(frozen=True)
class CreateSchema:
    name: Name
    if_not_exists: bool


@dataclass(frozen=True)
class CreateVolume:
    name: Name
    if_not_exists: bool


@dataclass(frozen=True)
class DropTable:
    name: Name
    if_exists: bool


@dataclass(frozen=True)
class CreateTableAs:
    name: Name
    or_replace: bool
    if_not_exists: bool
    partition_by: tuple[str, ...]
    select: str


@dataclass(frozen=True)
class CreateEmptyTable:
    """`CREATE TABLE [IF NOT EXISTS] t` with no columns and no AS: a schemaless placeholder (COPY INTO fills it)."""

    name: Name
    or_replace: bool
    if_not_exists: bool


@dataclass(frozen=True)
class InsertReplaceWhere:
    name: Name
    column: str
    value: Value
    select: str


@dataclass(frozen=True)
class InsertInto:
    name: Name
    select: str


@dataclass(frozen=True)
class CopyInto:
    name: Name
    source: str
    file_format: str
    files: tuple[str, ...] | None = None
    pattern: str | None = None
    format_options: dict[str, str] = field(default_factory=dict)
    copy_options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DescribeHistory:
    name: Name
    limit: int | None


@dataclass(frozen=True)
class DescribeDetail:
    name: Name


@dataclass(frozen=True)
class Restore:
    name: Name
    version: int


@dataclass(frozen=True)
class Vacuum:
    name: Name
    retain_hours: float | None
    dry_run: bool


@dataclass(frozen=True)
class Optimize:
    name: Name


@dataclass(frozen=True)
class ShowSchemas:
    catalog: str | None
    pattern: str | None


@dataclass(frozen=True)
class ShowTables:
    schema: Name | None
    pattern: str | None


Statement = (
    Query
    | CreateSchema
    | CreateVolume
    | DropTable
    | CreateTableAs
    | CreateEmptyTable
    | InsertReplaceWhere
    | InsertInto
    | CopyInto
    | DescribeHistory
    | DescribeDetail
    | Restore
    | Vacuum
    | Optimize
    | ShowSchemas
    | ShowTables
)


class _Cursor:
    """Walks the tokens of one statement; `fail` names the statement for unsupported forms."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.i + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.is_word(*words)

    def at_op(self, op: str) -> bool:
        token = self.peek()
        return token is not None and token.is_op(op)

    def take(self, *words: str) -> bool:
        """Consume the words in sequence if they all come next."""
        for offset, word in enumerate(words):
            token = self.peek(offset)
            if token is None or not token.is_word(word):
                return False
        self.i += len(words)
        return True

    def take_op(self, op: str) -> bool:
        if self.at_op(op):
            self.i += 1
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.take(*words):
            raise self.fail(f"expected {' '.join(words)}")

    def expect_op(self, op: str) -> None:
        if not self.take_op(op):
            raise self.fail(f"expected '{op}'")

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    def expect_end(self) -> None:
        if not self.done():
            raise self.fail(f"unexpected {self.tokens[self.i].text!r}")

    def fail(self, reason: str) -> StatementError:
        head = " ".join(t.text for t in self.tokens[:4])
        return unsupported(f"{reason} in '{head} ...'")

    def rest(self) -> str:
        """The text from the current token to the end of the statement."""
        token = self.peek()
        if token is None:
            raise self.fail("expected a query")
        return self.text[token.start : self.tokens[-1].end]

    def name(self) -> Name:
        parts: list[str] = []
        while True:
            token = self.peek()
            if token is None or token.kind not in ("word", "ident"):
                raise self.fail("expected a name")
            parts.append(token.value.lower())
            self.i += 1
            if not self.take_op("."):
                break
        if len(parts) > 3:
            raise self.fail(f"name {'.'.join(parts)!r} has more than 3 parts")
        return Name(tuple(parts))

    def string(self) -> str:
        token = self.peek()
        if token is None or token.kind != "string":
            raise self.fail("expected a string literal")
        self.i += 1
        return token.value

    def integer(self) -> int:
        token = self.peek()
        if token is None or token.kind != "number" or not token.value.isdigit():
            raise self.fail("expected an integer")
        self.i += 1
        return int(token.value)

    def number(self) -> float:
        token = self.peek()
        if token is None or token.kind != "number":
            raise self.fail("expected a number")
        self.i += 1
        try:
            return float(token.value)
        except ValueError:
            raise self.fail(f"bad number {token.text!r}") from None

    def parenthesised(self) -> list[Token]:
        """The tokens between a `(` and its matching `)`, consumed."""
        self.expect_op("(")
        depth, start = 1, self.i
        while not self.done():
            token = self.tokens[self.i]
            self.i += 1
            if token.is_op("("):
                depth += 1
            elif token.is_op(")"):
                depth -= 1
                if depth == 0:
                    return self.tokens[start : self.i - 1]
        raise self.fail("unbalanced parentheses")

    def at_query(self) -> bool:
        token = self.peek()
        if token is None:
            return False
        if token.is_op("("):
            inner = self.peek(1)
            return inner is not None and (inner.is_word(*_QUERY_START) or inner.is_op("("))
        return token.is_word(*_QUERY_START)


def _statement_tokens(text: str) -> list[Token]:
    try:
        tokens = tokenize(text)
    except TokenizeError as exc:
        raise parse_error(f"Syntax error: {exc}.") from None
    while tokens and tokens[-1].is_op(";"):
        tokens.pop()
    if any(t.is_op(";") for t in tokens):
        raise parse_error("Syntax error: only one statement can be run per request.")
    if not tokens:
        raise parse_error("Syntax error at or near end of input: the statement is empty.")
    return tokens


def classify(text: str) -> Statement:
    """The statement `text` is, or a StatementError saying why the emulator will not run it."""
    tokens = _statement_tokens(text)
    cursor = _Cursor(text, tokens)
    if cursor.at_query():
        return Query(cursor.rest())
    first = tokens[0].upper
    handler = _HANDLERS.get(first)
    if handler is None:
        raise unsupported(f"'{' '.join(t.text for t in tokens[:3])} ...'")
    cursor.i = 1
    return handler(cursor)


def _create(cursor: _Cursor) -> Statement:
    or_replace = cursor.take("OR", "REPLACE")
    if cursor.take("SCHEMA") or cursor.take("DATABASE"):
        if or_replace:
            raise cursor.fail("CREATE OR REPLACE SCHEMA")
        if_not_exists = cursor.take("IF", "NOT", "EXISTS")
        name = cursor.name()
        _skip_comment(cursor)
        cursor.expect_end()
        return CreateSchema(name, if_not_exists)
    if cursor.take("VOLUME"):
        if_not_exists = cursor.take("IF", "NOT", "EXISTS")
        name = cursor.name()
        _skip_comment(cursor)
        cursor.expect_end()
        return CreateVolume(name, if_not_exists)
    if not cursor.take("TABLE"):
        raise cursor.fail("only CREATE SCHEMA, CREATE VOLUME and CREATE TABLE are supported")
    if_not_exists = cursor.take("IF", "NOT", "EXISTS")
    name = cursor.name()
    if cursor.at_op("("):
        raise cursor.fail("CREATE TABLE with a column list")
    partition_by: tuple[str, ...] = ()
    while not cursor.done() and not cursor.at("AS") and not cursor.at_query():
        if cursor.take("USING"):
            if not cursor.take("DELTA"):
                raise cursor.fail("tables are Delta tables: USING DELTA only")
        elif cursor.take("PARTITIONED", "BY"):
            partition_by = tuple(_column_list(cursor))
        elif cursor.take("TBLPROPERTIES"):
            _options(cursor)  # table properties change nothing the emulator reproduces
        elif not _skip_comment(cursor):
            raise cursor.fail(f"table clause {cursor.tokens[cursor.i].text!r}")
    if cursor.done():
        return CreateEmptyTable(name, or_replace, if_not_exists)
    cursor.take("AS")
    if not cursor.at_query():
        raise cursor.fail("expected a query after AS")
    return CreateTableAs(name, or_replace, if_not_exists, partition_by, cursor.rest())


def _skip_comment(cursor: _Cursor) -> bool:
    if cursor.take("COMMENT"):
        cursor.string()
        return True
    return False


def _column_list(cursor: _Cursor) -> list[str]:
    columns: list[str] = []
    for token in cursor.parenthesised():
        if token.kind in ("word", "ident"):
            columns.append(token.value.lower())
        elif not token.is_op(","):
            raise cursor.fail("PARTITIONED BY takes column names only")
    if not columns:
        raise cursor.fail("PARTITIONED BY needs a column")
    return columns


def _insert(cursor: _Cursor) -> Statement:
    if cursor.at("OVERWRITE"):
        raise cursor.fail("INSERT OVERWRITE")
    cursor.expect("INTO")
    cursor.take("TABLE")
    name = cursor.name()
    if cursor.take("REPLACE", "WHERE"):
        column_token = cursor.peek()
        if column_token is None or column_token.kind not in ("word", "ident"):
            raise cursor.fail("REPLACE WHERE needs `column = value`")
        cursor.i += 1
        if not cursor.take_op("="):
            raise cursor.fail("REPLACE WHERE beyond `column = value`")
        value = _literal(cursor)
        if not cursor.at_query():
            raise cursor.fail("REPLACE WHERE beyond `column = value`")
        return InsertReplaceWhere(name, column_token.value.lower(), value, cursor.rest())
    if not cursor.at_query():
        raise cursor.fail("INSERT with a column list or a clause other than REPLACE WHERE")
    return InsertInto(name, cursor.rest())


def _literal(cursor: _Cursor) -> Value:
    token = cursor.peek()
    if token is None:
        raise cursor.fail("expected a value")
    cursor.i += 1
    if token.kind == "param":
        return Param(token.value)
    if token.kind == "string":
        return token.value
    negative = token.is_op("-")
    if negative:
        token = cursor.peek()
        if token is None or token.kind != "number":
            raise cursor.fail("expected a number")
        cursor.i += 1
    if token.kind == "number":
        text = ("-" if negative else "") + token.value
        return int(text) if re.fullmatch(r"-?\d+", text) else Decimal(text)
    if token.is_word("DATE"):
        return date.fromisoformat(cursor.string())
    if token.is_word("TIMESTAMP", "TIMESTAMP_NTZ"):
        return datetime.fromisoformat(cursor.string().replace("Z", "+00:00"))
    raise cursor.fail(f"REPLACE WHERE value {token.text!r}")


def _options(cursor: _Cursor) -> dict[str, str]:
    """`('key' = 'value', ...)`; values may be strings, numbers or true/false."""
    tokens = cursor.parenthesised()
    options: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        if i + 2 >= len(tokens) or not tokens[i + 1].is_op("="):
            raise cursor.fail("options are 'key' = 'value' pairs")
        options[tokens[i].value.lower()] = tokens[i + 2].value
        i += 3
        if i < len(tokens):
            if not tokens[i].is_op(","):
                raise cursor.fail("options are separated by commas")
            i += 1
    return options


def _copy_into(cursor: _Cursor) -> Statement:
    cursor.expect("INTO")
    name = cursor.name()
    cursor.expect("FROM")
    if cursor.at_op("("):
        raise cursor.fail("COPY INTO from a SELECT")
    source = cursor.string()
    if cursor.at("WITH"):
        raise cursor.fail("COPY INTO with a credential")
    cursor.expect("FILEFORMAT")
    cursor.expect_op("=")
    token = cursor.peek()
    if token is None or token.kind != "word":
        raise cursor.fail("expected a file format")
    cursor.i += 1
    files: tuple[str, ...] | None = None
    pattern: str | None = None
    format_options: dict[str, str] = {}
    copy_options: dict[str, str] = {}
    while not cursor.done():
        if cursor.take("FILES"):
            cursor.expect_op("=")
            files = tuple(t.value for t in cursor.parenthesised() if t.kind == "string")
        elif cursor.take("PATTERN"):
            cursor.expect_op("=")
            pattern = cursor.string()
        elif cursor.take("FORMAT_OPTIONS"):
            format_options = _options(cursor)
        elif cursor.take("COPY_OPTIONS"):
            copy_options = _options(cursor)
        else:
            raise cursor.fail(f"COPY INTO clause {cursor.tokens[cursor.i].text!r}")
    return CopyInto(name, source, token.value.upper(), files, pattern, format_options, copy_options)


def _describe(cursor: _Cursor) -> Statement:
    if cursor.take("HISTORY"):
        name = cursor.name()
        limit = cursor.integer() if cursor.take("LIMIT") else None
        cursor.expect_end()
        return DescribeHistory(name, limit)
    if cursor.take("DETAIL"):
        name = cursor.name()
        cursor.expect_end()
        return DescribeDetail(name)
    raise cursor.fail("only DESCRIBE HISTORY and DESCRIBE DETAIL are supported")


def _restore(cursor: _Cursor) -> Statement:
    cursor.take("TABLE")
    name = cursor.name()
    cursor.take("TO")
    if cursor.at("TIMESTAMP"):
        raise cursor.fail("RESTORE TO TIMESTAMP AS OF")
    cursor.expect("VERSION", "AS", "OF")
    version = cursor.integer()
    cursor.expect_end()
    return Restore(name, version)


def _vacuum(cursor: _Cursor) -> Statement:
    name = cursor.name()
    retain: float | None = None
    if cursor.take("RETAIN"):
        retain = cursor.number()
        cursor.expect("HOURS")
    dry_run = cursor.take("DRY", "RUN")
    cursor.expect_end()
    return Vacuum(name, retain, dry_run)


def _optimize(cursor: _Cursor) -> Statement:
    name = cursor.name()
    if not cursor.done():
        raise cursor.fail("OPTIMIZE with WHERE or ZORDER BY")
    return Optimize(name)


def _pattern(cursor: _Cursor) -> str | None:
    cursor.take("LIKE")
    if cursor.done():
        return None
    pattern = cursor.string()
    cursor.expect_end()
    return pattern


def _show(cursor: _Cursor) -> Statement:
    if cursor.take("SCHEMAS") or cursor.take("DATABASES"):
        catalog = None
        if cursor.take("IN") or cursor.take("FROM"):
            name = cursor.name()
            if len(name.parts) != 1:
                raise cursor.fail("SHOW SCHEMAS IN <catalog>")
            catalog = name.parts[0]
        return ShowSchemas(catalog, _pattern(cursor))
    if cursor.take("TABLES"):
        schema = cursor.name() if cursor.take("IN") or cursor.take("FROM") else None
        if schema is not None and len(schema.parts) > 2:
            raise cursor.fail("SHOW TABLES IN <catalog>.<schema>")
        return ShowTables(schema, _pattern(cursor))
    raise cursor.fail("only SHOW SCHEMAS and SHOW TABLES are supported")


def _drop(cursor: _Cursor) -> Statement:
    if not cursor.take("TABLE"):
        raise cursor.fail("only DROP TABLE is supported")
    if_exists = cursor.take("IF", "EXISTS")
    name = cursor.name()
    cursor.expect_end()
    return DropTable(name, if_exists)


_HANDLERS = {
    "CREATE": _create,
    "INSERT": _insert,
    "COPY": _copy_into,
    "DESCRIBE": _describe,
    "DESC": _describe,
    "RESTORE": _restore,
    "VACUUM": _vacuum,
    "OPTIMIZE": _optimize,
    "SHOW": _show,
    "DROP": _drop,
}


# -- names --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableName:
    catalog: str
    schema: str
    table: str

    @property
    def engine_name(self) -> str:
        """What the engine calls it: `schema.table`."""
        return f"{self.schema}.{self.table}"

    def __str__(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.table}"


def table_name(name: Name, catalog: str, schema: str | None) -> TableName:
    """`name` completed with the request's defaults (Databricks' default schema is `default`)."""
    parts = name.parts
    if len(parts) == 3:
        return TableName(*parts)
    if len(parts) == 2:
        return TableName(catalog, parts[0], parts[1])
    return TableName(catalog, schema or "default", parts[0])


def schema_name(name: Name, catalog: str) -> tuple[str, str]:
    """(catalog, schema) of a 1- or 2-part schema name."""
    if len(name.parts) == 3:
        raise unsupported(f"schema name {name} has 3 parts")
    return (name.parts[0], name.parts[1]) if len(name.parts) == 2 else (catalog, name.parts[0])


# -- queries ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueryTables:
    """What a query names: the catalogs of its 3-part names, and whether some names have no catalog."""

    catalogs: frozenset[str]
    uncatalogued: bool
    unqualified: bool


def _parse(sql: str) -> exp.Expression | None:
    try:
        return sqlglot.parse_one(sql, read="databricks")
    except (SqlglotError, ValueError):
        return None  # the engine will say what is wrong with it


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def query_tables(sql: str) -> QueryTables:
    tree = _parse(sql)
    if tree is None:
        return QueryTables(frozenset(), False, False)
    ctes = _cte_names(tree)
    catalogs: set[str] = set()
    uncatalogued = unqualified = False
    for table in tree.find_all(exp.Table):
        if not table.name:
            continue
        if table.catalog:
            catalogs.add(table.catalog.lower())
        elif table.db:
            uncatalogued = True
        elif table.name.lower() not in ctes:
            unqualified = True
    return QueryTables(frozenset(catalogs), uncatalogued, unqualified)


def qualify(sql: str, schema: str) -> str:
    """`sql` with the tables that name no schema (and are not CTEs) put in `schema`."""
    tree = _parse(sql)
    if tree is None:
        return sql
    ctes = _cte_names(tree)
    changed = False
    for table in tree.find_all(exp.Table):
        if table.name and not table.db and table.name.lower() not in ctes:
            table.set("db", exp.to_identifier(schema))
            changed = True
    return tree.sql(dialect="databricks") if changed else sql


def like(pattern: str | None, name: str) -> bool:
    """SHOW ... LIKE: `*` matches anything, `|` separates alternatives, case-insensitive."""
    if pattern is None:
        return True
    for alternative in pattern.split("|"):
        regex = "".join(".*" if c == "*" else re.escape(c) for c in alternative.strip().lower())
        if re.fullmatch(regex, name.lower()):
            return True
    return False


# -- read_files --------------------------------------------------------------------------------------------
_READ_FILES = re.compile(
    r"^\s*SELECT\s+\*\s+FROM\s+read_files\s*\(\s*'(?P<path>(?:[^'\\]|\\.)*)'"
    r"(?:\s*,\s*format\s*=>\s*'(?P<format>\w+)')?\s*\)(?:\s+LIMIT\s+(?P<limit>\d+))?\s*;?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FilesSelect:
    """`SELECT * FROM read_files('<path>', format => 'parquet') [LIMIT n]`: the one form of `read_files` the
    emulator reads (what a client writes to load a staged file); anything richer goes to the engine as SQL."""

    path: str
    file_format: str
    limit: int | None


def files_select(sql: str) -> FilesSelect | None:
    match = _READ_FILES.match(sql)
    if match is None:
        return None
    limit = match["limit"]
    return FilesSelect(
        path=match["path"].replace("\\'", "'"),
        file_format=(match["format"] or "parquet").upper(),
        limit=int(limit) if limit is not None else None,
    )
