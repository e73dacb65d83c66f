"""Property values: internal form <-> Notion wire shapes.

Internal ("raw") values are compact: a title may be a plain `str` (generated pages) or a list of
request-style rich-text items (written pages); a select is its option name; people and relations
are lists of ids; a date is an ISO string or `{start, end, time_zone}`. `render_value` turns them
into the exact response shapes of the Notion API; `parse_write` validates request bodies;
`coerce_simple` accepts plain Python values for the sandbox's own mutation API.

Dates come back the way Notion sends them: date-only values as `YYYY-MM-DD`, datetimes at minute
precision with the UTC offset inside the string (`2025-03-04T09:30:00.000+00:00`) and
`time_zone: null` always. A date written with a `time_zone` is converted into that zone's offset
(Notion keeps the wall time and drops the zone name); naive datetimes are read as UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ppm_sandbox.notion.errors import validation_error
from ppm_sandbox.notion.ids import normalize_uuid, option_id
from ppm_sandbox.notion.schema import COLORS, READ_ONLY_TYPES, PropertySpec, SelectOption

RELATION_PAGE_LIMIT = 25  # relations/people beyond this arrive truncated with has_more
MAX_TEXT_LENGTH = 2000
MAX_ARRAY_ITEMS = 100


def js_length(text: str) -> int:
    """A string's length as Notion's (JavaScript) validation counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


ANNOTATIONS: dict[str, Any] = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}
_ANNOTATION_KEYS = frozenset(ANNOTATIONS)


class RenderContext(Protocol):
    """What rendering needs from the store."""

    def user_json(self, user_id: str) -> dict[str, Any]: ...

    def mention_title(self, page_id: str) -> str: ...

    def page_url(self, page_id: str) -> str: ...

    def file_expiry(self) -> str: ...


# ------------------------------------------------------------------------------ rich text


def plain_text_item(content: str) -> dict[str, Any]:
    return {
        "type": "text",
        "text": {"content": content, "link": None},
        "annotations": ANNOTATIONS,
        "plain_text": content,
        "href": None,
    }


def render_rich_text(raw: Any, ctx: RenderContext) -> list[dict[str, Any]]:
    if not raw:
        return []
    if isinstance(raw, str):
        return [plain_text_item(raw)]
    return [_render_text_item(item, ctx) for item in raw]


def _render_text_item(item: Mapping[str, Any], ctx: RenderContext) -> dict[str, Any]:
    annotations = ANNOTATIONS
    if item.get("annotations"):
        annotations = {**ANNOTATIONS, **item["annotations"]}
    kind = item.get("type") or (
        "mention" if "mention" in item else "equation" if "equation" in item else "text"
    )
    if kind == "text":
        text = item["text"]
        link = text.get("link")
        return {
            "type": "text",
            "text": {"content": text["content"], "link": link},
            "annotations": annotations,
            "plain_text": text["content"],
            "href": link["url"] if link else None,
        }
    if kind == "equation":
        expression = item["equation"]["expression"]
        return {
            "type": "equation",
            "equation": {"expression": expression},
            "annotations": annotations,
            "plain_text": expression,
            "href": None,
        }
    mention = item["mention"]
    mtype = mention.get("type") or next(k for k in ("user", "page", "database", "date") if k in mention)
    if mtype == "user":
        # Notion sends the partial user (`object`, `id`) in mentions; the name is in plain_text.
        user = ctx.user_json(mention["user"]["id"])
        return {
            "type": "mention",
            "mention": {"type": "user", "user": {"object": "user", "id": user["id"]}},
            "annotations": annotations,
            "plain_text": f"@{user.get('name') or 'Unknown'}",
            "href": None,
        }
    if mtype in ("page", "database"):
        target = mention[mtype]["id"]
        return {
            "type": "mention",
            "mention": {"type": mtype, mtype: {"id": target}},
            "annotations": annotations,
            "plain_text": ctx.mention_title(target),
            "href": ctx.page_url(target),
        }
    when = render_date(mention["date"])
    text = when["start"] if not when["end"] else f"{when['start']} → {when['end']}"
    return {
        "type": "mention",
        "mention": {"type": "date", "date": when},
        "annotations": annotations,
        "plain_text": text,
        "href": None,
    }


def plain_text(raw: Any) -> str:
    """Concatenated text of a rich-text value.

    Mentions contribute their date, or the `plain_text` stored with them (generated user mentions
    carry their "@Name"); other mentions (pages, users written through the API) contribute nothing.
    """
    if not raw:
        return ""
    if isinstance(raw, str):
        return raw
    parts = []
    for item in raw:
        hint = item.get("plain_text")
        if hint is not None:
            parts.append(hint)
        elif "text" in item:
            parts.append(item["text"]["content"])
        elif "equation" in item:
            parts.append(item["equation"]["expression"])
        elif "mention" in item:
            mention = item["mention"]
            if "date" in mention:
                parts.append(mention["date"].get("start") or "")
    return "".join(parts)


# ----------------------------------------------------------------------------------- dates


def normalize_datetime(value: str, zone: str | None) -> str:
    """Notion's response form: dates as-is, datetimes as `YYYY-MM-DDTHH:MM:00.000+HH:MM`.

    Seconds and milliseconds are dropped (Notion stores minutes). A naive datetime is wall time in
    `zone` (UTC without one); a datetime with an offset keeps it, or moves into `zone` when given.
    """
    if len(value) == 10:
        return value
    moment = parse_iso(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(zone) if zone else UTC)
    elif zone:
        moment = moment.astimezone(_zone(zone))
    offset = moment.strftime("%z") or "+0000"
    return moment.strftime("%Y-%m-%dT%H:%M:00.000") + f"{offset[:3]}:{offset[3:5]}"


def render_date(raw: Any) -> dict[str, Any]:
    """`{start, end, time_zone: null}`: a stored time zone is folded into the offsets."""
    if isinstance(raw, str):
        return {"start": normalize_datetime(raw, None), "end": None, "time_zone": None}
    zone = raw.get("time_zone")
    end = raw.get("end")
    return {
        "start": normalize_datetime(raw["start"], zone),
        "end": normalize_datetime(end, zone) if end else None,
        "time_zone": None,
    }


def parse_iso(value: str) -> datetime:
    """ISO-8601 date or datetime (with `Z`, an offset, or naive) -> datetime."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    return datetime.fromisoformat(text)


def date_start_seconds(raw: Any) -> float | None:
    """POSIX seconds of a date value's start (date-only means 00:00 UTC)."""
    if not raw:
        return None
    start = raw if isinstance(raw, str) else raw.get("start")
    if not start:
        return None
    moment = parse_iso(start)
    if moment.tzinfo is None:
        zone = None if isinstance(raw, str) else raw.get("time_zone")
        moment = moment.replace(tzinfo=_zone(zone) if zone and len(start) > 10 else UTC)
    return moment.timestamp()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise validation_error(f"Invalid time_zone `{name}`: expected an IANA time zone name.") from exc


# ---------------------------------------------------------------------------------- render


def _option_value(spec: PropertySpec, name: str) -> dict[str, Any]:
    option = spec.option(name)
    if option is None:  # the option was removed from the schema after the value was set
        return {"id": name, "name": name, "color": "default"}
    return option.to_value()


def number_value(raw: Any) -> Any:
    """Numbers as Notion prints them: integral floats without a fraction."""
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e15:
        return int(raw)
    return raw


def render_files(raw: Any, ctx: RenderContext) -> list[dict[str, Any]]:
    out = []
    for item in raw or ():
        if item.get("type") == "file" or "file" in item:
            out.append(
                {
                    "name": item["name"],
                    "type": "file",
                    "file": {"url": item["file"]["url"], "expiry_time": ctx.file_expiry()},
                }
            )
        else:
            out.append(
                {"name": item["name"], "type": "external", "external": {"url": item["external"]["url"]}}
            )
    return out


def render_verification(raw: Any, ctx: RenderContext) -> dict[str, Any]:
    raw = raw or {"state": "unverified"}
    by = raw.get("verified_by")
    when = raw.get("date")
    return {
        "state": raw["state"],
        "verified_by": ctx.user_json(by) if by else None,
        "date": render_date(when) if when else None,
    }


def render_value(spec: PropertySpec, raw: Any, ctx: RenderContext) -> Any:
    """The value part (`page.properties[name][type]`) of a stored property."""
    t = spec.type
    if t in ("title", "rich_text"):
        return render_rich_text(raw, ctx)
    if t == "number":
        return number_value(raw)
    if t in ("select", "status"):
        return _option_value(spec, raw) if raw else None
    if t == "multi_select":
        return [_option_value(spec, name) for name in raw or ()]
    if t == "date":
        return render_date(raw) if raw else None
    if t == "people":
        return [ctx.user_json(uid) for uid in raw or ()]
    if t == "relation":
        return [{"id": pid} for pid in (raw or ())[:RELATION_PAGE_LIMIT]]
    if t == "checkbox":
        return bool(raw)
    if t in ("url", "email", "phone_number"):
        return raw or None
    if t == "files":
        return render_files(raw, ctx)
    if t == "unique_id":
        return {"prefix": spec.prefix, "number": raw}
    if t == "verification":
        return render_verification(raw, ctx)
    if t == "place":
        return dict(raw) if raw else None
    if t == "button":
        return {}
    raise ValueError(f"{t} values are computed, not stored")


def property_object(spec: PropertySpec, value: Any, *, has_more: bool | None = None) -> dict[str, Any]:
    """`{id, type, <type>: value}` (+ `has_more` for relations), as in `page.properties`."""
    out: dict[str, Any] = {"id": spec.id, "type": spec.type, spec.type: value}
    if has_more is not None:
        out["has_more"] = has_more
    return out


def render_formula(result: str, value: Any) -> dict[str, Any]:
    if result == "date":
        return {"type": "date", "date": render_date(value) if value else None}
    if result == "boolean":
        return {"type": "boolean", "boolean": bool(value) if value is not None else None}
    if result == "number":
        return {"type": "number", "number": number_value(value)}
    return {"type": "string", "string": value if value is not None else None}


# --------------------------------------------------------------------------------- writing


def parse_write(spec: PropertySpec, body: Any, *, field: str) -> Any:
    """Validate a request-body property value; return its internal form.

    May add options to `spec` (Notion creates unknown select / multi_select options on write).
    """
    if spec.type in READ_ONLY_TYPES:
        raise validation_error(f"{spec.name} is a {spec.type} property and cannot be updated.")
    if not isinstance(body, Mapping):
        raise validation_error(
            f"body failed validation: {field} should be an object, instead was `{body!r}`."
        )
    text_key = spec.type if spec.type in body else None
    if text_key is None:
        others = [k for k in body if k not in ("id", "type", "name") and k != spec.type]
        if others:
            raise validation_error(f"{spec.name} is expected to be {spec.type}.")
        raise validation_error(
            f"body failed validation: {field}.{spec.type} should be defined, instead was `undefined`."
        )
    value = body[text_key]
    return _parse_typed(spec, value, f"{field}.{spec.type}")


def _parse_typed(spec: PropertySpec, value: Any, field: str) -> Any:
    t = spec.type
    if t in ("title", "rich_text"):
        return parse_rich_text(value, field)
    if t == "number":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise validation_error(
                f"body failed validation: {field} should be a number or `null`, instead was `{value!r}`."
            )
        return value
    if t in ("select", "status"):
        if value is None:
            return None
        return _option_name(spec, value, field, create=t == "select")
    if t == "multi_select":
        items = _array(value, field)
        return [_option_name(spec, item, f"{field}[{i}]", create=True) for i, item in enumerate(items)]
    if t == "date":
        return parse_date(value, field)
    if t in ("people", "relation"):
        items = _array(value, field)
        if len(items) > MAX_ARRAY_ITEMS:
            raise validation_error(f"body failed validation: {field}.length should be ≤ `{MAX_ARRAY_ITEMS}`.")
        ids = []
        for i, item in enumerate(items):
            raw_id = item.get("id") if isinstance(item, Mapping) else None
            normalized = normalize_uuid(raw_id) if isinstance(raw_id, str) else None
            if normalized is None:
                raise validation_error(f"body failed validation: {field}[{i}].id should be a valid uuid.")
            ids.append(normalized)
        return ids
    if t == "checkbox":
        if not isinstance(value, bool):
            raise validation_error(
                f"body failed validation: {field} should be a boolean, instead was `{value!r}`."
            )
        return value
    if t in ("url", "email", "phone_number"):
        if value is not None and not isinstance(value, str):
            raise validation_error(f"body failed validation: {field} should be a string or `null`.")
        return value or None
    if t == "files":
        files = []
        for i, item in enumerate(_array(value, field)):
            if (
                not isinstance(item, Mapping)
                or "external" not in item
                or "url" not in (item.get("external") or {})
            ):
                raise validation_error(
                    f"body failed validation: {field}[{i}].external.url should be defined."
                )
            files.append(
                {
                    "name": item.get("name") or item["external"]["url"],
                    "type": "external",
                    "external": {"url": item["external"]["url"]},
                }
            )
        return files
    raise validation_error(f"{spec.name} is a {t} property and cannot be updated.")


def parse_rich_text(value: Any, field: str) -> list[dict[str, Any]]:
    items = _array(value, field)
    if len(items) > MAX_ARRAY_ITEMS:
        raise validation_error(f"body failed validation: {field}.length should be ≤ `{MAX_ARRAY_ITEMS}`.")
    out: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        where = f"{field}[{i}]"
        if not isinstance(item, Mapping):
            raise validation_error(f"body failed validation: {where} should be an object.")
        annotations = item.get("annotations")
        extra: dict[str, Any] = {}
        if annotations:
            if not isinstance(annotations, Mapping) or set(annotations) - _ANNOTATION_KEYS:
                raise validation_error(f"body failed validation: {where}.annotations is invalid.")
            extra["annotations"] = dict(annotations)
        if "text" in item:
            text = item["text"]
            content = text.get("content") if isinstance(text, Mapping) else None
            if not isinstance(content, str):
                raise validation_error(f"body failed validation: {where}.text.content should be a string.")
            length = js_length(content)
            if length > MAX_TEXT_LENGTH:
                raise validation_error(
                    f"body failed validation: {where}.text.content.length should be ≤ `{MAX_TEXT_LENGTH}`, "
                    f"instead was `{length}`."
                )
            link = text.get("link")
            if link is not None and not (isinstance(link, Mapping) and isinstance(link.get("url"), str)):
                raise validation_error(f"body failed validation: {where}.text.link.url should be a string.")
            out.append(
                {
                    "type": "text",
                    "text": {"content": content, "link": {"url": link["url"]} if link else None},
                    **extra,
                }
            )
        elif "mention" in item:
            out.append({"type": "mention", "mention": _parse_mention(item["mention"], where), **extra})
        elif "equation" in item:
            expression = (item["equation"] or {}).get("expression")
            if not isinstance(expression, str):
                raise validation_error(
                    f"body failed validation: {where}.equation.expression should be a string."
                )
            out.append({"type": "equation", "equation": {"expression": expression}, **extra})
        else:
            raise validation_error(
                f"body failed validation: {where}.text should be defined, instead was `undefined`."
            )
    return out


def _parse_mention(mention: Any, where: str) -> dict[str, Any]:
    if not isinstance(mention, Mapping):
        raise validation_error(f"body failed validation: {where}.mention should be an object.")
    for kind in ("user", "page", "database"):
        if kind in mention:
            target = (mention[kind] or {}).get("id")
            normalized = normalize_uuid(target) if isinstance(target, str) else None
            if normalized is None:
                raise validation_error(
                    f"body failed validation: {where}.mention.{kind}.id should be a valid uuid."
                )
            return {"type": kind, kind: {"id": normalized}}
    if "date" in mention:
        return {"type": "date", "date": parse_date(mention["date"], f"{where}.mention.date")}
    raise validation_error(
        f"body failed validation: {where}.mention should have one of user, page, database, date."
    )


def parse_date(value: Any, field: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not isinstance(value.get("start"), str):
        raise validation_error(f"body failed validation: {field}.start should be a string.")
    zone = value.get("time_zone")
    parsed: dict[str, Any] = {"start": value["start"], "end": value.get("end"), "time_zone": zone}
    for key in ("start", "end"):
        text = parsed[key]
        if text is None:
            continue
        try:
            parse_iso(text)
        except (TypeError, ValueError) as exc:
            raise validation_error(
                f"body failed validation: {field}.{key} should be a valid ISO 8601 date string, instead was `{text!r}`."
            ) from exc
        if zone and len(text) == 10:
            raise validation_error(
                f"body failed validation: {field}.{key} must include a time when time_zone is set."
            )
    if zone:
        _zone(zone)
    return normalize_date(parsed)


def normalize_date(value: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a written date: what Notion will answer (offsets, minutes, no zone name)."""
    return render_date(value)


def _array(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise validation_error(
            f"body failed validation: {field} should be an array, instead was `{value!r}`."
        )
    return value


def _option_name(spec: PropertySpec, value: Any, field: str, *, create: bool) -> str:
    if not isinstance(value, Mapping):
        raise validation_error(f"body failed validation: {field} should be an object.")
    if "id" in value and value["id"] is not None:
        option = spec.option_by_id(str(value["id"]))
        if option is None:
            raise validation_error(f"Invalid {spec.type} option id `{value['id']}` for property {spec.name}.")
        return option.name
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise validation_error(f"body failed validation: {field}.name should be a non-empty string.")
    return ensure_option(spec, name, create=create)


def ensure_option(spec: PropertySpec, name: str, *, create: bool = True) -> str:
    """Return `name`, adding it as a new option when allowed (select, multi_select)."""
    if spec.option(name) is not None:
        return name
    if "," in name:
        raise validation_error(f"Select option names cannot contain commas: `{name}`.")
    if not create:
        raise validation_error(
            f"Invalid status option. Status option `{name}` does not exist for property {spec.name}."
        )
    color = COLORS[1 + len(spec.options) % (len(COLORS) - 1)]
    spec.options.append(SelectOption(id=option_id(0, spec.id, name), name=name, color=color))
    return name


# --------------------------------------------------------------------------- simple values


def coerce_simple(spec: PropertySpec, value: Any) -> Any:
    """Internal form from a plain Python value (sandbox API), or from a Notion request value."""
    if isinstance(value, Mapping) and spec.type in value:
        return parse_write(spec, value, field=f"properties.{spec.name}")
    if spec.type in READ_ONLY_TYPES:
        raise validation_error(f"{spec.name} is a {spec.type} property and cannot be updated.")
    t = spec.type
    if value is None:
        return [] if t in ("title", "rich_text", "multi_select", "people", "relation", "files") else None
    if t in ("title", "rich_text"):
        if isinstance(value, str):
            return value
        return parse_rich_text(value, f"properties.{spec.name}")
    if t in ("select", "status"):
        return ensure_option(spec, str(value), create=t == "select")
    if t == "multi_select":
        return [ensure_option(spec, str(v)) for v in _listify(value)]
    if t in ("people", "relation"):
        ids = []
        for v in _listify(value):
            normalized = normalize_uuid(str(v))
            if normalized is None:
                raise validation_error(f"{spec.name}: {v!r} is not a valid id.")
            ids.append(normalized)
        return ids
    if t == "date":
        if isinstance(value, datetime | date):
            value = value.isoformat()
        if isinstance(value, str):
            parse_iso(value)
            return value if len(value) == 10 else normalize_datetime(value, None)
        return parse_date(value, f"properties.{spec.name}")
    if t == "files":
        return [
            {"name": v.rsplit("/", 1)[-1], "type": "external", "external": {"url": v}}
            if isinstance(v, str)
            else dict(v)
            for v in _listify(value)
        ]
    if t == "checkbox":
        return bool(value)
    return _parse_typed(spec, value, f"properties.{spec.name}")


def place_text(raw: Any) -> str | None:
    """A place as readable text: "name, address", else "lat,lon" (how bronze flattens it).

    Written here independently of the product's flattening (the sandbox imports nothing of the product):
    the truth silver is compared with must not come from the code under test.
    """
    if not raw:
        return None
    parts = [str(raw[key]) for key in ("name", "address") if raw.get(key)]
    if parts:
        return ", ".join(parts)
    if raw.get("lat") is not None and raw.get("lon") is not None:
        return f"{raw['lat']},{raw['lon']}"
    return None


def _listify(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def simple_value(spec: PropertySpec, raw: Any) -> Any:
    """The plain value of a stored property (used by filters, sorts, formulas and `truth`)."""
    t = spec.type
    if t in ("title", "rich_text"):
        return plain_text(raw)
    if t in ("multi_select", "people", "relation"):
        return list(raw or ())
    if t == "date":
        if not raw:
            return None
        if isinstance(raw, str):
            return raw if len(raw) == 10 else normalize_datetime(raw, None)
        start = raw.get("start")
        return normalize_datetime(start, raw.get("time_zone")) if start else None
    if t == "place":
        return place_text(raw)
    if t == "button":
        return None
    if t == "checkbox":
        return bool(raw)
    if t == "files":
        return [(f.get("external") or f.get("file") or {}).get("url") for f in raw or ()]
    if t == "unique_id":
        return raw
    if t == "verification":
        return (raw or {}).get("state", "unverified")
    return raw
