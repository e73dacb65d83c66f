"""Pure functions that flatten Notion property values to the bronze shape.

Every property of a page lands in exactly one of two maps (see "Notion property flattening" in
docs/data-dictionary.md):

- ``properties: dict[str, str | None]`` for single-valued types, as text (``None`` = no value);
- ``property_lists: dict[str, list[str]]`` for multi-valued types (multi_select, relation, people, files,
  rollup arrays).

Silver SQL then reads ``properties['Budget']`` or ``property_lists['Tags']`` without parsing JSON.

Empty values are ``None`` (SQL NULL), never the text ``"None"``: a null select/status/date/url/email/
phone_number, a formula whose result is null (``{"type": "string", "string": null}``) or empty, a rollup
``{"type": "number", "number": null}`` / ``{"type": "date", "date": null}``. Empty lists stay ``[]``.

Shapes worth knowing:

- rich text (title, rich_text): the items' ``plain_text`` concatenated, so a user mention contributes its
  ``"@Name"`` (a page mention its title, a date mention its date);
- people / created_by / last_edited_by: user ids. Bot users (``type: "bot"``, no ``person.email``) and
  partial users (``{object, id}``) flatten exactly like people;
- rollup arrays: every item is a property value of its own (title, rich_text, date, number, select,
  relation, ...), flattened by the same rules; items without a value are left out, list items spliced in;
- ``place``: readable text, ``"name, address"`` (whichever of the two is set), else ``"lat,lon"`` for a
  dropped pin, ``None`` when the place is null;
- ``button``: always ``None`` (a button has no value; Notion sends ``{}``);
- a type this module does not know yet: its value as canonical JSON text (``None`` when null or ``{}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

FlatValue = str | None | list[str]

#: Notion property types whose value is always a list, kept in bronze `property_lists` (a rollup is a list
#: only when its ``rollup.type`` is ``array``). Not the mapping's column types: see `ColumnKind`.
LIST_PROPERTY_TYPES = frozenset({"multi_select", "relation", "people", "files"})


def plain_text(rich_text: Iterable[Mapping[str, Any]] | None) -> str | None:
    """Concatenated plain text of a rich-text array (text, mentions, equations); ``None`` when empty."""
    if not rich_text:
        return None
    parts = []
    for item in rich_text:
        text = item.get("plain_text")
        if text is None:  # hand-built payloads (e.g. for writes) may omit plain_text
            text = (item.get("text") or {}).get("content") or (item.get("equation") or {}).get("expression")
            if text is None:
                text = _mention_text(item.get("mention"))
        parts.append(text or "")
    return "".join(parts) or None


def _mention_text(mention: Mapping[str, Any] | None) -> str | None:
    """What Notion would print for a mention without ``plain_text``: ``@Name`` of a user, a date's start."""
    if not mention:
        return None
    user = mention.get("user")
    if isinstance(user, Mapping) and user.get("name"):
        return f"@{user['name']}"
    when = mention.get("date")
    if isinstance(when, Mapping):
        return format_date(when)
    return None


def format_number(value: Any) -> str | None:
    """A JSON number as text; integral floats lose the ``.0`` so 12 and 12.0 flatten (and hash) alike."""
    if value is None:
        return None
    if isinstance(value, bool):  # bool is an int subclass; never a Notion number, but do not print "True"
        return format_bool(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def format_bool(value: Any) -> str | None:
    """``"true"`` / ``"false"`` (Spark and DuckDB both cast these to BOOLEAN)."""
    if value is None:
        return None
    return "true" if value else "false"


def format_date(date: Mapping[str, Any] | None) -> str | None:
    """``start`` or ``start/end`` (ISO 8601 as Notion sent them, an ISO interval when ranged)."""
    if not date or not date.get("start"):
        return None
    end = date.get("end")
    return f"{date['start']}/{end}" if end else str(date["start"])


def user_id(user: Mapping[str, Any] | None) -> str | None:
    """The id of a user object (person, bot or group)."""
    return str(user["id"]) if user and user.get("id") else None


def file_url(item: Mapping[str, Any]) -> str | None:
    """The URL of a files entry; for Notion-hosted files without the expiring signature query string.

    Hosted files come as pre-signed URLs valid for one hour: the signature changes on every read, which would
    make every sync look like an edit. The object URL (scheme, host, path) is stable; raw_payload keeps the
    signed URL.
    """
    kind = item.get("type")
    if kind == "external":
        return (item.get("external") or {}).get("url")
    if kind == "file":
        url = (item.get("file") or {}).get("url")
        if not url:
            return None
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if kind == "file_upload":  # a file attached through the File Upload API and not yet rendered
        return (item.get("file_upload") or {}).get("id")
    return item.get("name")


def format_place(value: Mapping[str, Any] | None) -> str | None:
    """A place value as text: ``"name, address"`` (the parts that are set), else ``"lat,lon"``, else None."""
    if not value:
        return None
    parts = [str(value[key]) for key in ("name", "address") if value.get(key)]
    if parts:
        return ", ".join(parts)
    if value.get("lat") is not None and value.get("lon") is not None:
        return f"{value['lat']},{value['lon']}"
    return None


def _unique_id(value: Mapping[str, Any] | None) -> str | None:
    if not value or value.get("number") is None:
        return None
    prefix = value.get("prefix")
    return f"{prefix}-{value['number']}" if prefix else str(value["number"])


def _formula(value: Mapping[str, Any] | None) -> str | None:
    if not value:
        return None
    kind = value.get("type")
    inner = value.get(kind) if kind else None
    if kind == "string":
        return inner if inner else None  # Notion sends an empty result as null; "" reads the same
    if kind == "number":
        return format_number(inner)
    if kind == "boolean":
        return format_bool(inner)
    if kind == "date":
        return format_date(inner)
    return _as_json(inner)


def _rollup(value: Mapping[str, Any] | None) -> FlatValue:
    if not value:
        return None
    kind = value.get("type")
    if kind == "number":
        return format_number(value.get("number"))
    if kind == "date":
        return format_date(value.get("date"))
    if kind == "array":
        return _flatten_items(value.get("array") or [])
    return None  # "incomplete" / "unsupported": Notion computed no value


def _flatten_items(items: Iterable[Mapping[str, Any]]) -> list[str]:
    """Rollup array items are property values themselves; keep every non-null scalar, splice lists."""
    out: list[str] = []
    for item in items:
        flat = flatten_property(item)
        if isinstance(flat, list):
            out.extend(flat)
        elif flat is not None:
            out.append(flat)
    return out


def _as_json(value: Any) -> str | None:
    """Fallback for types this module does not know yet: keep the value, as canonical JSON."""
    if value is None or value == {}:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def flatten_property(prop: Mapping[str, Any]) -> FlatValue:
    """Flatten one property value object (``{"type": ..., <type>: ...}``) to text, a list of text, or None."""
    kind = prop.get("type")
    value = prop.get(kind) if kind else None
    match kind:
        case "title" | "rich_text":
            return plain_text(value)
        case "number":
            return format_number(value)
        case "select" | "status":
            return value.get("name") if value else None
        case "multi_select":
            return [str(option["name"]) for option in value or [] if option.get("name") is not None]
        case "date":
            return format_date(value)
        case "checkbox":
            return format_bool(bool(value))
        case "url" | "email" | "phone_number" | "created_time" | "last_edited_time":
            return value or None
        case "people":
            return [uid for uid in (user_id(u) for u in value or []) if uid]
        case "relation":
            return [str(ref["id"]) for ref in value or [] if ref.get("id")]
        case "files":
            return [url for url in (file_url(f) for f in value or []) if url]
        case "created_by" | "last_edited_by":
            return user_id(value)
        case "unique_id":
            return _unique_id(value)
        case "formula":
            return _formula(value)
        case "rollup":
            return _rollup(value)
        case "verification":
            return value.get("state") if value else None
        case "place":
            return format_place(value)
        case "button":
            return None  # a button has no value
        case _:
            return _as_json(value)


def flatten_properties(
    properties: Mapping[str, Mapping[str, Any]],
) -> tuple[dict[str, str | None], dict[str, list[str]]]:
    """Split a page's ``properties`` into the bronze ``(properties, property_lists)`` maps, keyed by name."""
    scalars: dict[str, str | None] = {}
    lists: dict[str, list[str]] = {}
    for name, prop in properties.items():
        flat = flatten_property(prop)
        if isinstance(flat, list) or prop.get("type") in LIST_PROPERTY_TYPES:
            lists[name] = flat if isinstance(flat, list) else []
        else:
            scalars[name] = flat
    return scalars, lists
