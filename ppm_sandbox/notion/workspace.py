"""The demo workspace's shape: configuration, databases, schemas and users (DESIGN §4.4).

Programs, Projects, Budget Lines, Risks and Actions carry the seed schemas; Programs also carry
the rarer property types (multi_select, checkbox, url, email, phone_number, files, verification,
created/last-edited time/by, a datetime range, place, button) so that every type Notion has appears
somewhere. Benchmark databases ("Bench 1..k") reuse the Budget Lines schema.

Properties the mapping (config/notion_mapping.yaml) does not read carry most of the realistic
nulls and empties (see `generator.py`): Programs' Location (place) and Request Review (button),
Projects' rollup arrays of titles, dates and numbers, Risks' Category / Reviewers / Mitigation Plan /
Escalation / Project Status / Project End, Actions' Blocked By. Bench databases' "Line ID" has no
prefix (`unique_id.prefix: null`); the demo databases' ids are mapped with their prefixes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ppm_sandbox.notion.ids import IdCodec, Kind, option_id, property_id
from ppm_sandbox.notion.schema import (
    COLORS,
    DatabaseSchema,
    FormulaConfig,
    FormulaInputs,
    PropertySpec,
    RelationConfig,
    RollupConfig,
    SelectOption,
    StatusGroup,
)

#: Generated timestamps spread over the year before this instant. Fixed, so that a seed alone
#: fixes every value; pass `anchor=` (CLI `--anchor today`) for a demo that looks current.
DEFAULT_ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)

DEMO_DATABASES: tuple[tuple[str, str, str, int], ...] = (
    # key, title, kind, default count
    ("programs", "Programs", "programs", 8),
    ("projects", "Projects", "projects", 60),
    ("budget_lines", "Budget Lines", "budget_lines", 1500),
    ("risks", "Risks", "risks", 200),
    ("actions", "Actions", "actions", 300),
)

DEFAULT_TOKEN = "secret_ppm_sandbox"
TOKEN_PREFIXES: tuple[str, ...] = ("secret_", "ntn_")


@dataclass(frozen=True)
class NotionConfig:
    """How the Notion emulator's workspace is generated and guarded.

    `scale` multiplies the demo counts; `counts` overrides them per database key; `bench_pages`
    adds that many pages spread over `bench_databases` extra Budget-Lines-shaped databases.
    `tokens=None` accepts any token that looks like a Notion one (`secret_…` / `ntn_…`).
    """

    seed: int = 42
    scale: float = 1.0
    counts: Mapping[str, int] = field(default_factory=dict)
    bench_pages: int = 0
    bench_databases: int = 0
    anchor: datetime = DEFAULT_ANCHOR
    defect_period: int = 50
    tokens: tuple[str, ...] | None = None
    cursor_ttl_s: float = 900.0

    def token_ok(self, token: str) -> bool:
        if self.tokens is not None:
            return token in self.tokens
        return token.startswith(TOKEN_PREFIXES) and len(token) > 8


@dataclass(frozen=True)
class DatabasePlan:
    key: str
    title: str
    kind: str
    count: int
    ordinal: int
    bench: bool = False


def plan_databases(config: NotionConfig) -> list[DatabasePlan]:
    """The databases of the workspace, with their page counts, in ordinal order."""
    unknown = set(config.counts) - {key for key, *_ in DEMO_DATABASES}
    if unknown:
        raise ValueError(f"unknown database keys in counts: {sorted(unknown)}")
    plans: list[DatabasePlan] = []
    for ordinal, (key, title, kind, default) in enumerate(DEMO_DATABASES):
        count = config.counts.get(key, round(default * config.scale))
        if key in ("programs", "projects"):
            count = max(count, 1)  # parents of every relation; never empty
        plans.append(DatabasePlan(key, title, kind, max(0, int(count)), ordinal))
    if config.bench_pages and config.bench_databases < 1:
        raise ValueError("bench_pages needs bench_databases >= 1")
    base, extra = divmod(config.bench_pages, max(config.bench_databases, 1))
    for j in range(config.bench_databases):
        count = base + (1 if j < extra else 0)
        plans.append(
            DatabasePlan(f"bench_{j + 1}", f"Bench {j + 1}", "budget_lines", count, len(plans), True)
        )
    return plans


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str | None
    avatar_url: str | None
    bot: bool = False

    def to_json(self) -> dict[str, Any]:
        if self.bot:
            return {
                "object": "user",
                "id": self.id,
                "name": self.name,
                "avatar_url": self.avatar_url,
                "type": "bot",
                "bot": {},
            }
        return {
            "object": "user",
            "id": self.id,
            "name": self.name,
            "avatar_url": self.avatar_url,
            "type": "person",
            "person": {"email": self.email},
        }


PEOPLE = (
    "Ava Reyes",
    "Liam Santos",
    "Mia Cruz",
    "Noah Garcia",
    "Sofia Bautista",
    "Lucas Müller",
    "Emma Schmidt",
    "Mateo Rossi",
    "Isabella Chen",
    "Ethan Patel",
    "Olivia Tan",
    "James O'Brien",
)


def build_users(codec: IdCodec) -> tuple[User, list[User]]:
    """(the integration's bot user, the workspace's people)."""
    bot = User(codec.encode(Kind.USER, 0, 0), "PPM Sandbox Integration", None, None, bot=True)
    people = []
    for i, name in enumerate(PEOPLE, start=1):
        handle = name.lower().replace("'", "").replace("ü", "u").replace(" ", ".")
        avatar = f"https://ppm-sandbox.example/avatars/{i}.png" if i % 3 else None
        people.append(User(codec.encode(Kind.USER, 0, i), name, f"{handle}@ppm-sandbox.example", avatar))
    return bot, people


# ----------------------------------------------------------------------------------- schemas


def _prop(name: str, type_: str, **config: Any) -> PropertySpec:
    return PropertySpec(id="", name=name, type=type_, **config)


def _options(*names: str, colors: tuple[str, ...] | None = None) -> list[SelectOption]:
    palette = colors or COLORS[1:]
    return [SelectOption("", n, palette[i % len(palette)]) for i, n in enumerate(names)]


CURRENCIES = ("USD", "EUR", "PHP")
UNKNOWN_CURRENCIES = ("GBP", "XXX")
LEVELS = ("High", "Medium", "Low")
RISK_CATEGORIES = ("Financial", "Delivery", "Compliance", "Technical")


def _over_budget(f: FormulaInputs) -> bool:
    spent, budget = f.number("Spent"), f.number("Budget Total")
    return spent is not None and budget is not None and spent > budget


def _budget_label(f: FormulaInputs) -> str:
    budget = f.number("Budget Total")
    return f"{f.text('Currency')} {budget:,.0f}".strip() if budget is not None else f.text("Currency")


def _remaining(f: FormulaInputs) -> float | None:
    budget = f.number("Budget Total")
    return None if budget is None else round(budget - (f.number("Spent") or 0.0), 2)


def _variance(f: FormulaInputs) -> float | None:
    amount, actual = f.number("Amount"), f.number("Actual Amount")
    return None if amount is None or actual is None else round(amount - actual, 2)


def _escalation(f: FormulaInputs) -> str | None:
    """Notion's empty formula string arrives as `{"type": "string", "string": null}`."""
    return "Escalate to steering" if f.text("Severity") == "Critical" else None


def _committed_month(f: FormulaInputs) -> str | None:
    committed = f.date("Committed Date")
    return committed[:8] + "01" if committed else None


def declare(kind: str) -> list[PropertySpec]:
    """Property declarations (ids still empty) of a database kind."""
    people_props = [_prop("Owner", "people")]
    if kind == "programs":
        return [
            _prop("Name", "title"),
            _prop("Program ID", "unique_id", prefix="PRG"),
            *people_props,
            _prop("Start Date", "date"),
            _prop("End Date", "date"),
            _prop("Status", "select", options=_options("Active", "On Hold", "Completed")),
            _prop("Description", "rich_text"),
            _prop("Projects", "relation", relation=RelationConfig("projects", dual="Program", computed=True)),
            _prop("Project Count", "rollup", rollup=RollupConfig("Projects", "Name", "count")),
            _prop("Latest Project End", "rollup", rollup=RollupConfig("Projects", "End Date", "latest_date")),
            _prop(
                "Tags",
                "multi_select",
                options=_options("Strategic", "Regulatory", "Cost Saving", "Growth", "Security", "Cloud"),
            ),
            _prop("Approved", "checkbox"),
            _prop("Website", "url"),
            _prop("Sponsor Email", "email"),
            _prop("Hotline", "phone_number"),
            _prop("Charter", "files"),
            _prop("Steering Review", "date"),
            _prop("Verification", "verification"),
            _prop("Created", "created_time"),
            _prop("Created By", "created_by"),
            _prop("Last Edited", "last_edited_time"),
            _prop("Last Edited By", "last_edited_by"),
            _prop("Location", "place"),
            _prop("Request Review", "button"),
        ]
    if kind == "projects":
        return [
            _prop("Name", "title"),
            _prop("Program", "relation", relation=RelationConfig("programs", dual="Projects")),
            _prop("Budget Total", "number", number_format="number_with_commas"),
            _prop("Currency", "select", options=_options(*CURRENCIES, *UNKNOWN_CURRENCIES)),
            _prop("Status", "select", options=_options("Planning", "In Progress", "Completed", "On Hold")),
            _prop("Priority", "select", options=_options(*LEVELS, colors=("red", "yellow", "blue"))),
            *people_props,
            _prop("Start Date", "date"),
            _prop("End Date", "date"),
            _prop("Project ID", "unique_id", prefix="PRJ"),
            _prop(
                "Budget Lines",
                "relation",
                relation=RelationConfig("budget_lines", dual="Project", computed=True),
            ),
            _prop("Total Budget Lines", "rollup", rollup=RollupConfig("Budget Lines", "Amount", "sum")),
            _prop("Spent", "rollup", rollup=RollupConfig("Budget Lines", "Actual Amount", "sum")),
            _prop("Last Paid", "rollup", rollup=RollupConfig("Budget Lines", "Paid Date", "latest_date")),
            _prop("Vendors", "rollup", rollup=RollupConfig("Budget Lines", "Vendor", "show_original")),
            _prop("Line Names", "rollup", rollup=RollupConfig("Budget Lines", "Name", "show_original")),
            _prop("Paid Dates", "rollup", rollup=RollupConfig("Budget Lines", "Paid Date", "show_original")),
            _prop("Line Amounts", "rollup", rollup=RollupConfig("Budget Lines", "Amount", "show_original")),
            _prop(
                "Average Actual", "rollup", rollup=RollupConfig("Budget Lines", "Actual Amount", "average")
            ),
            _prop(
                "Over Budget",
                "formula",
                formula=FormulaConfig('prop("Spent") > prop("Budget Total")', "boolean", _over_budget),
            ),
            _prop(
                "Budget Label",
                "formula",
                formula=FormulaConfig(
                    'prop("Currency") + " " + format(prop("Budget Total"))', "string", _budget_label
                ),
            ),
            _prop(
                "Remaining",
                "formula",
                formula=FormulaConfig('prop("Budget Total") - prop("Spent")', "number", _remaining),
            ),
        ]
    if kind == "budget_lines":
        return [
            _prop("Name", "title"),
            _prop("Project", "relation", relation=RelationConfig("projects", dual="Budget Lines")),
            _prop("Category", "select", options=_options("CapEx", "OpEx")),
            _prop("Vendor", "rich_text"),
            _prop("Amount", "number", number_format="number_with_commas"),
            _prop("Actual Amount", "number", number_format="number_with_commas"),
            _prop("Currency", "select", options=_options(*CURRENCIES, *UNKNOWN_CURRENCIES)),
            _prop("Committed Date", "date"),
            _prop("Invoice Date", "date"),
            _prop("Paid Date", "date"),
            _prop("Line ID", "unique_id", prefix="BL"),
            _prop(
                "Variance",
                "formula",
                formula=FormulaConfig('prop("Amount") - prop("Actual Amount")', "number", _variance),
            ),
            _prop(
                "Committed Month",
                "formula",
                formula=FormulaConfig(
                    'parseDate(formatDate(prop("Committed Date"), "YYYY-MM-01"))', "date", _committed_month
                ),
            ),
        ]
    if kind == "risks":
        return [
            _prop("Title", "title"),
            _prop("Project", "relation", relation=RelationConfig("projects")),
            _prop("Severity", "select", options=_options("Critical", "High", "Medium", "Low")),
            _prop("Probability", "select", options=_options(*LEVELS)),
            _prop("Status", "select", options=_options("Open", "Mitigating", "Closed")),
            *people_props,
            _prop("Risk ID", "unique_id", prefix="RSK"),
            _prop("Category", "select", options=_options(*RISK_CATEGORIES)),
            _prop("Reviewers", "people"),
            _prop("Mitigation Plan", "url"),
            _prop(
                "Escalation",
                "formula",
                formula=FormulaConfig(
                    'if(prop("Severity") == "Critical", "Escalate to steering", "")', "string", _escalation
                ),
            ),
            _prop("Project Status", "rollup", rollup=RollupConfig("Project", "Status", "show_original")),
            _prop("Project End", "rollup", rollup=RollupConfig("Project", "End Date", "latest_date")),
        ]
    if kind == "actions":
        return [
            _prop("Title", "title"),
            _prop("Project", "relation", relation=RelationConfig("projects")),
            _prop("Assignee", "people"),
            _prop("Due Date", "date"),
            _prop(
                "Status",
                "status",
                options=_options("Not started", "In progress", "Done", colors=("default", "blue", "green")),
                groups=[
                    StatusGroup("", "To-do", "gray", ["Not started"]),
                    StatusGroup("", "In progress", "blue", ["In progress"]),
                    StatusGroup("", "Complete", "green", ["Done"]),
                ],
            ),
            _prop("Source", "select", options=_options("Manual", "Advisor", "DQ")),
            _prop("Source ID", "rich_text"),
            _prop("Priority", "select", options=_options(*LEVELS, colors=("red", "yellow", "blue"))),
            _prop("Action ID", "unique_id", prefix="ACT"),
            _prop("Blocked By", "relation", relation=RelationConfig("actions")),
        ]
    raise ValueError(f"unknown database kind {kind!r}")


def build_schema(seed: int, plan: DatabasePlan) -> DatabaseSchema:
    """Declarations of `plan.kind` with deterministic property and option ids."""
    taken: set[str] = set()
    props = declare(plan.kind)
    if plan.bench:
        # Bench databases relate one-way to Projects, so projects do not roll up millions of lines.
        for p in props:
            if p.relation is not None:
                p.relation = RelationConfig(p.relation.target)
            if p.type == "unique_id":
                p.prefix = None  # ids without a prefix: `unique_id.prefix` is null
    for p in props:
        p.id = "title" if p.type == "title" else property_id(seed, plan.key, p.name, taken)
        for option in p.options:
            option.id = option_id(seed, f"{plan.key}/{p.name}", option.name)
        for group in p.groups:
            group.id = option_id(seed, f"{plan.key}/{p.name}/group", group.name)
    return DatabaseSchema(props)


def group_option_ids(spec: PropertySpec, group_names: list[str]) -> list[str]:
    return [o.id for o in spec.options if o.name in group_names]


def is_people_type(type_: str) -> bool:
    return type_ in ("people", "created_by", "last_edited_by")
