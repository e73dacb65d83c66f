"""Deterministic, lazy page content for the demo workspace (DESIGN §4.4).

A generated page is a pure function of (seed, database, index): nothing is stored per page, so a
million-page database costs the same memory as an eight-page one. Relations are laid out by
`layout.Assignment` (invertible), timestamps by `layout.Timeline` (monotonic in the index).

Deliberate defects (about 2 %: exactly one generated page in `defect_period`, default 50, classes
dealt in rotation per database) give the DQ checks something real to find:

=================  ===========================================  ===================================
class              what is wrong                                databases (default counts)
=================  ===========================================  ===================================
orphan_missing     relation "Project" -> a page id that never   Budget Lines (6), Risks (2),
                   existed (404)                                Actions (2)
orphan_trashed     relation "Project" -> the trashed project    Budget Lines (6), Risks (1),
                   (the last Projects page starts in trash)     Actions (2)
unknown_currency   select "Currency" is "GBP" or "XXX"          Budget Lines (6), Projects (1)
negative_amount    "Amount" / "Budget Total" below zero         Budget Lines (6), Projects (1)
blank_name         empty title                                  Budget Lines (6), Programs (1),
                                                                Risks (1), Actions (2)
=================  ===========================================  ===================================

With the default seed and sizes that is 43 defects over 2,068 pages; `NotionStore.defects()`
lists them (database, page id, class, property, value) for tests that assert what DQ finds.

Realistic nulls and empties are drawn from a second stream per page (`Rng(key, index, EXTRA)`), so
the values above (and every DQ and gold figure built on them) do not move. They sit on properties
the mapping does not read, at these rates:

=====================================  ==========================================================
page / property                        empty or null share (else a value)
=====================================  ==========================================================
created_by (page and property)         bot user (the integration) for 20 % of pages
last_edited_by (page and property)     bot user for 15 %
icon                                   emoji / external / null: Programs 75/25/0 %, Projects
                                       50/10/40 %, others 15/5/80 %
cover                                  external for Programs 50 %, Projects 20 %, others 2 %
is_locked (2025-09-03)                 true for Programs 25 %, others 1 %
Programs: Website / Sponsor Email /    null 25 % / 25 % / 30 %
Hotline
Programs: Tags / Charter               empty list 25 % / 25 %
Programs: Location (place)             null 35 %
Programs: Steering Review              datetime range at :00/:15/:30/:45, offsets of Europe/
                                       Berlin, Asia/Manila or UTC, `time_zone` null
Risks: Category (select)               null 30 %
Risks: Reviewers (people)              empty 50 %; one reviewer in five is the bot
Risks: Mitigation Plan (url)           null 60 %
Risks: Escalation (formula string)     null unless Severity is Critical (about 90 %)
Risks: Project Status / Project End    empty array / null date for orphaned risks
Actions: Blocked By (relation)         empty 85 %
Actions: Title                         12 % end in a user mention ("… for @Name")
Projects: Average Actual (rollup)      null when no line has an actual amount
=====================================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from ppm_sandbox.notion.ids import IdCodec, Kind
from ppm_sandbox.notion.layout import Assignment, DefectPlan, Timeline
from ppm_sandbox.notion.prng import Rng, hash_keys, mix64, salt
from ppm_sandbox.notion.properties import normalize_datetime
from ppm_sandbox.notion.schema import DatabaseSchema
from ppm_sandbox.notion.workspace import (
    CURRENCIES,
    LEVELS,
    RISK_CATEGORIES,
    DatabasePlan,
    NotionConfig,
    build_users,
)

DEFECT_CLASSES: dict[str, tuple[str, ...]] = {
    "programs": ("blank_name",),
    "projects": ("unknown_currency", "negative_amount", "blank_name"),
    "budget_lines": ("orphan_missing", "orphan_trashed", "unknown_currency", "negative_amount", "blank_name"),
    "risks": ("orphan_missing", "orphan_trashed", "blank_name"),
    "actions": ("orphan_missing", "orphan_trashed", "blank_name"),
}
ORPHAN_CLASSES = frozenset({"orphan_missing", "orphan_trashed"})

FLAGSHIP_SHARE = 0.04  # of budget lines on project 0
FX_SCALE = {"USD": 1.0, "EUR": 0.92, "PHP": 56.0, "GBP": 0.79, "XXX": 1.0}

PROGRAM_NAMES = (
    "Digital Core",
    "Cloud Migration",
    "Customer Experience",
    "Data & Analytics",
    "Security Uplift",
    "Workplace Modernisation",
    "Finance Transformation",
    "Network Refresh",
)
PROJECT_AREAS = (
    "ERP",
    "CRM",
    "Data Platform",
    "Azure Landing Zone",
    "Network",
    "Service Desk",
    "Payroll",
    "Identity",
    "Billing",
    "Warehouse",
    "Mobile App",
    "Intranet",
    "Analytics",
    "Backup",
    "Endpoint",
)
PROJECT_WORKS = (
    "Upgrade",
    "Migration",
    "Rollout",
    "Consolidation",
    "Modernisation",
    "Integration",
    "Refresh",
    "Automation",
)
VENDORS = (
    "Microsoft",
    "Amazon Web Services",
    "Accenture",
    "Deloitte",
    "Cisco",
    "Dell Technologies",
    "ServiceNow",
    "Atlassian",
    "Globe Telecom",
    "PLDT Enterprise",
    "SAP",
    "Oracle",
    "Salesforce",
    "Fortinet",
    "Ubiquiti",
    "NinjaOne",
    "Databricks",
    "Snowflake",
)
LINE_ITEMS = (
    "Licences",
    "Consulting",
    "Hardware",
    "Cloud consumption",
    "Support contract",
    "Training",
    "Implementation services",
    "Travel",
    "Subscriptions",
    "Data migration",
)
RISK_TEMPLATES = (
    "Vendor delivery delay",
    "Budget overrun",
    "Key person dependency",
    "Regulatory change",
    "Security vulnerability",
    "Scope creep",
    "Integration complexity",
    "FX exposure",
    "Data migration quality",
    "Licensing cost increase",
)
ACTION_TEMPLATES = (
    "Review budget forecast",
    "Right-size idle VMs",
    "Renegotiate vendor contract",
    "Fix missing currency",
    "Update risk register",
    "Approve change request",
    "Enable backup policy",
    "Close stale purchase order",
    "Confirm milestone dates",
    "Reconcile invoices",
)
TAGS = ("Strategic", "Regulatory", "Cost Saving", "Growth", "Security", "Cloud")
TIME_ZONES = ("Europe/Berlin", "Asia/Manila", None)
EXTRA = salt("nulls-and-empties/4")  # the second per-page stream (see the module docstring)
_BOT_AUTHOR = salt("bot-author")
_BOT_EDITOR = salt("bot-editor")
_DECOR = salt("decor")
ICONS = ("📁", "💰", "🚀", "📊", "🛡️", "☁️", "🧭", "📌")
#: (emoji share, external share, cover share, locked share) of page decorations per database kind
DECOR_RATES: dict[str, tuple[float, float, float, float]] = {
    "programs": (0.75, 0.25, 0.5, 0.25),
    "projects": (0.5, 0.1, 0.2, 0.01),
}
DEFAULT_DECOR = (0.15, 0.05, 0.02, 0.01)
PLACES = (
    ("PPM Head Office", "6750 Ayala Avenue, Makati City, Metro Manila, Philippines", 14.5547, 121.0244),
    ("Berlin Delivery Hub", "Friedrichstraße 68, 10117 Berlin, Germany", 52.5075, 13.3903),
    ("Cebu Service Centre", "Cebu IT Park, Lahug, Cebu City, Philippines", 10.3302, 123.9057),
    ("", "", 1.2834, 103.8607),  # a dropped pin: coordinates only
)
DQ_RULES = ("orphan_budget_lines", "unknown_currency", "negative_amount", "blank_name", "stale_project")


@dataclass(frozen=True)
class Defect:
    """One deliberately broken page."""

    database: str
    database_key: str
    page_id: str
    index: int
    kind: str
    property: str
    value: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "database_key": self.database_key,
            "page_id": self.page_id,
            "index": self.index,
            "kind": self.kind,
            "property": self.property,
            "value": self.value,
        }


@dataclass(frozen=True)
class ProjectProfile:
    """Facts about a project that its children need (so they never generate the whole project)."""

    currency: str
    start: int  # days relative to the anchor
    end: int
    budget: float


def _text(content: str, link: str | None = None) -> dict[str, Any]:
    return {"type": "text", "text": {"content": content, "link": {"url": link} if link else None}}


class WorkspaceModel:
    """Facts shared by all generators of one workspace: seed, anchor, ids, users, parents."""

    def __init__(self, config: NotionConfig, plans: list[DatabasePlan]) -> None:
        self.config = config
        self.seed = config.seed
        self.anchor = config.anchor
        self.anchor_minute = int(config.anchor.timestamp()) // 60
        self.anchor_date = config.anchor.date()
        self.codec = IdCodec(config.seed)
        self.bot, self.people = build_users(self.codec)
        self.people_ids = [u.id for u in self.people]
        self.plans = {p.key: p for p in plans}
        programs, projects = self.plans["programs"], self.plans["projects"]
        self.programs_ordinal, self.projects_ordinal = programs.ordinal, projects.ordinal
        # The last project starts in the trash: target of "orphan_trashed" defects.
        self.trashed_project: int | None = projects.count - 1 if projects.count >= 2 else None
        # Program 0 is the flagship: about half of all projects, so its back-relation exceeds 25.
        program_weights = [float(programs.count - 1 or 1)] + [1.0] * (programs.count - 1)
        self.project_program = Assignment(
            projects.count, program_weights, hash_keys(self.seed, salt("prj>prg"))
        )
        self._day_cache: dict[int, str] = {}
        self._projects: dict[int, ProjectProfile] = {}

    def page_id(self, ordinal: int, index: int) -> str:
        return _page_id(self.codec, ordinal, index)

    def ghost_id(self, ordinal: int, index: int) -> str:
        return self.codec.encode(Kind.GHOST, ordinal, index)

    def day(self, offset: int) -> str:
        """ISO date `offset` days from the anchor date (cached: dates repeat a lot)."""
        text = self._day_cache.get(offset)
        if text is None:
            text = self._day_cache[offset] = (self.anchor_date + timedelta(days=offset)).isoformat()
        return text

    def person(self, key: int) -> str:
        return self.people_ids[key % len(self.people_ids)]

    def parent_weights(self, salt_name: str, flagship: float) -> list[float]:
        """Weights of projects as parents: the trashed one gets none, project 0 gets `flagship`."""
        count = self.plans["projects"].count
        rng = Rng(self.seed, salt(salt_name))
        weights = [rng.uniform(0.6, 1.4) for _ in range(count)]
        weights[0] = flagship
        if self.trashed_project is not None:
            weights[self.trashed_project] = 0.0
        return weights

    def project(self, index: int) -> ProjectProfile:
        """Currency, dates and budget of project `index` (memoised: every child asks)."""
        profile = self._projects.get(index)
        if profile is None:
            rng = Rng(self.seed, salt("project-profile"), index)
            currency = rng.weighted(CURRENCIES, (0.5, 0.3, 0.2))
            start = -rng.between(0, 540)
            end = start + rng.between(120, 720)
            budget = round(rng.uniform(80_000, 2_500_000) * FX_SCALE[currency], -3)
            profile = self._projects[index] = ProjectProfile(currency, start, end, budget)
        return profile


@lru_cache(maxsize=262_144)
def _page_id(codec: IdCodec, ordinal: int, index: int) -> str:
    return codec.encode(Kind.PAGE, ordinal, index)


class PageGenerator:
    """Base: timeline, defects and id bookkeeping of one generated database."""

    kind = ""

    def __init__(self, model: WorkspaceModel, plan: DatabasePlan, schema: DatabaseSchema) -> None:
        self.model = model
        self.plan = plan
        self.count = plan.count
        self.ordinal = plan.ordinal
        self.key = hash_keys(model.seed, salt(plan.key))
        self.ids = {p.name: p.id for p in schema}
        self.timeline = Timeline(plan.count, model.anchor_minute)
        self.defects = DefectPlan(
            plan.count, model.config.defect_period, DEFECT_CLASSES.get(plan.kind, ()), hash_keys(self.key, 7)
        )
        # stored relation property id -> (assignment onto parents, parent database ordinal)
        self.relations: dict[str, tuple[Assignment, int]] = {}

    def values(self, index: int) -> dict[str, Any]:
        """Stored property values (by property id) of generated page `index`."""
        raise NotImplementedError

    def author(self, index: int) -> str:
        key = mix64(self.key ^ index)
        if mix64(key ^ _BOT_AUTHOR) % 100 < 20:
            return self.model.bot.id
        return self.model.person(key)

    def editor(self, index: int) -> str:
        key = mix64(self.key + index)
        if mix64(key ^ _BOT_EDITOR) % 100 < 15:
            return self.model.bot.id
        return self.model.person(key >> 3)

    def decor(self, index: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None, bool]:
        """(icon, cover, is_locked) of generated page `index`."""
        emoji, external, cover_share, locked = DECOR_RATES.get(self.plan.kind, DEFAULT_DECOR)
        rng = Rng(self.key, index, _DECOR)
        pick = rng.random()
        icon: dict[str, Any] | None = None
        if pick < emoji:
            icon = {"type": "emoji", "emoji": rng.choice(ICONS)}
        elif pick < emoji + external:
            url = f"https://ppm-sandbox.example/icons/{self.plan.kind}-{rng.below(6)}.svg"
            icon = {"type": "external", "external": {"url": url}}
        cover = None
        if rng.chance(cover_share):
            cover = {
                "type": "external",
                "external": {"url": f"https://ppm-sandbox.example/covers/{rng.below(12)}.jpg"},
            }
        return icon, cover, rng.chance(locked)

    def maybe(self, index: int, name: str, share: float) -> bool:
        """A draw of its own for (page, property): True for about `share` of the pages."""
        return Rng(self.key, index, EXTRA, salt(name)).chance(share)

    def mention(self, user_id: str) -> dict[str, Any]:
        """A stored user mention; its "@Name" is kept for the plain-text truth (filters, truth)."""
        name = next((u.name for u in self.model.people if u.id == user_id), self.model.bot.name)
        return {
            "type": "mention",
            "mention": {"type": "user", "user": {"id": user_id}},
            "plain_text": f"@{name}",
        }

    def children_of(self, relation_id: str, parent: int) -> list[int]:
        """Generated pages whose stored relation `relation_id` points at `parent`."""
        assignment, _ = self.relations[relation_id]
        if not self.defects.classes or not ORPHAN_CLASSES & set(self.defects.classes):
            return assignment.sources(parent)
        kind = self.defects.kind
        return [i for i in assignment.sources(parent) if kind(i) not in ORPHAN_CLASSES]

    def defect_list(self) -> Iterator[Defect]:
        """Every defect of this database, computed from the plan (no scan)."""
        for index, kind in sorted(self.defects):
            values = self.values(index)
            prop = self._defect_property(kind)
            raw = values.get(self.ids[prop])
            value = raw[0] if isinstance(raw, list) and raw else ("" if raw in ([], "") else raw)
            yield Defect(
                self.plan.title,
                self.plan.key,
                self.model.page_id(self.ordinal, index),
                index,
                kind,
                prop,
                value,
            )

    def _defect_property(self, kind: str) -> str:
        if kind == "blank_name":
            return next(name for name, pid in self.ids.items() if pid == "title")
        if kind in ORPHAN_CLASSES:
            return "Project"
        if kind == "unknown_currency":
            return "Currency"
        return "Budget Total" if self.plan.kind == "projects" else "Amount"

    def _orphan_target(self, kind: str, index: int) -> str:
        trashed = self.model.trashed_project
        if kind == "orphan_trashed" and trashed is not None:
            return self.model.page_id(self.model.projects_ordinal, trashed)
        return self.model.ghost_id(self.model.projects_ordinal, (self.ordinal << 28) | index)


class ProgramGenerator(PageGenerator):
    kind = "programs"

    def values(self, index: int) -> dict[str, Any]:
        m, ids = self.model, self.ids
        rng = Rng(self.key, index)
        number = index + 1
        name = PROGRAM_NAMES[index % len(PROGRAM_NAMES)]
        if index >= len(PROGRAM_NAMES):
            name = f"{name} {index // len(PROGRAM_NAMES) + 1}"
        owner = m.person(rng.next())
        start = -rng.between(300, 700)
        end = start + rng.between(540, 1100)
        status = "Completed" if end < 0 else rng.weighted(("Active", "On Hold"), (0.85, 0.15))
        website = f"https://intranet.ppm-sandbox.example/programs/prg-{number}"
        children = m.project_program.sources(index)
        description: list[dict[str, Any]] = [
            _text("Owned by "),
            {"type": "mention", "mention": {"type": "user", "user": {"id": owner}}},
            _text(f". {rng.choice(TAGS)} program, steering since "),
            {"type": "mention", "mention": {"type": "date", "date": {"start": m.day(start), "end": None}}},
        ]
        if children:
            flagship = m.page_id(m.projects_ordinal, children[0])
            description += [
                _text(". Flagship: "),
                {"type": "mention", "mention": {"type": "page", "page": {"id": flagship}}},
            ]
        description.append(_text(". See the charter.", link=website))
        review_day = m.anchor_date + timedelta(days=rng.between(-20, 40))
        zone = TIME_ZONES[index % len(TIME_ZONES)]
        hour = rng.between(8, 15)
        extra = Rng(self.key, index, EXTRA)
        minute = extra.choice((0, 15, 30, 45))
        # Entered in the app in the owner's zone; the API answers with that zone's offset only.
        review: dict[str, Any] = {
            "start": normalize_datetime(f"{review_day.isoformat()}T{hour:02d}:{minute:02d}:00", zone),
            "end": normalize_datetime(f"{review_day.isoformat()}T{hour + 2:02d}:{minute:02d}:00", zone),
            "time_zone": None,
        }
        verified = rng.chance(0.6)
        values: dict[str, Any] = {
            "title": "" if self.defects.kind(index) == "blank_name" else name,
            ids["Program ID"]: number,
            ids["Owner"]: [owner],
            ids["Start Date"]: m.day(start),
            ids["End Date"]: m.day(end),
            ids["Status"]: status,
            ids["Description"]: description,
            ids["Tags"]: rng.sample(TAGS, rng.between(1, 3)),
            ids["Approved"]: rng.chance(0.7),
            ids["Website"]: website,
            ids["Sponsor Email"]: f"sponsor.prg{number}@ppm-sandbox.example",
            ids["Hotline"]: f"+63 2 8{rng.between(1_000_000, 9_999_999)}",
            ids["Location"]: None,
            ids["Charter"]: [
                {"name": "charter.pdf", "type": "external", "external": {"url": f"{website}/charter.pdf"}},
                {
                    "name": f"PRG-{number} budget.xlsx",
                    "type": "file",
                    "file": {"url": f"{website}/budget.xlsx"},
                },
            ],
            ids["Steering Review"]: review,
            ids["Verification"]: (
                {
                    "state": "verified",
                    "verified_by": m.person(rng.next()),
                    "date": {"start": m.day(start + 30)},
                }
                if verified
                else {"state": "unverified"}
            ),
        }
        # nulls and empties, from the second stream (the draws above stay as they were)
        for name, share in (("Website", 0.25), ("Sponsor Email", 0.25), ("Hotline", 0.3)):
            if self.maybe(index, name, share):
                values[ids[name]] = None
        for name in ("Tags", "Charter"):
            if self.maybe(index, name, 0.25):
                values[ids[name]] = []
        if not self.maybe(index, "Location", 0.35):
            place, address, lat, lon = extra.choice(PLACES)
            values[ids["Location"]] = {
                "lat": lat,
                "lon": lon,
                "name": place or None,
                "address": address or None,
                "aws_place_id": None,
                "google_place_id": f"ChIJ{extra.next():016x}"[:27] if place else None,
            }
        return values


class ProjectGenerator(PageGenerator):
    kind = "projects"

    def __init__(self, model: WorkspaceModel, plan: DatabasePlan, schema: DatabaseSchema) -> None:
        super().__init__(model, plan, schema)
        self.relations[self.ids["Program"]] = (model.project_program, model.programs_ordinal)
        self._names = list(range(len(PROJECT_AREAS) * len(PROJECT_WORKS)))
        perm_rng = Rng(self.key, salt("names"))
        for i in range(len(self._names) - 1, 0, -1):  # Fisher-Yates with our own stream
            j = perm_rng.below(i + 1)
            self._names[i], self._names[j] = self._names[j], self._names[i]

    def name(self, index: int) -> str:
        combos = len(self._names)
        k = self._names[index % combos]
        name = f"{PROJECT_AREAS[k % len(PROJECT_AREAS)]} {PROJECT_WORKS[k // len(PROJECT_AREAS)]}"
        return name if index < combos else f"{name} {index // combos + 1}"

    def values(self, index: int) -> dict[str, Any]:
        m, ids = self.model, self.ids
        rng = Rng(self.key, index)
        profile = m.project(index)
        defect = self.defects.kind(index)
        if profile.end < 0:
            status = rng.weighted(("Completed", "On Hold"), (0.85, 0.15))
        elif profile.start > -30:
            status = "Planning"
        else:
            status = rng.weighted(("In Progress", "On Hold"), (0.85, 0.15))
        currency = profile.currency
        budget = profile.budget
        if defect == "unknown_currency":
            currency = "GBP" if index % 2 else "XXX"
        elif defect == "negative_amount":
            budget = -budget
        program = m.project_program.target(index)
        return {
            "title": "" if defect == "blank_name" else self.name(index),
            ids["Program"]: [m.page_id(m.programs_ordinal, program)],
            ids["Budget Total"]: budget,
            ids["Currency"]: currency,
            ids["Status"]: status,
            ids["Priority"]: rng.weighted(LEVELS, (0.3, 0.5, 0.2)),
            ids["Owner"]: [m.person(rng.next())],
            ids["Start Date"]: m.day(profile.start),
            ids["End Date"]: m.day(profile.end),
            ids["Project ID"]: index + 1,
        }


class BudgetLineGenerator(PageGenerator):
    kind = "budget_lines"

    def __init__(self, model: WorkspaceModel, plan: DatabasePlan, schema: DatabaseSchema) -> None:
        super().__init__(model, plan, schema)
        weights = model.parent_weights(f"{plan.key}>projects", 1.0)
        key = hash_keys(self.key, salt("parent"))
        self.assignment = Assignment(plan.count, weights, key)
        if not plan.bench and len(weights) > 1:
            # Project 0 is the flagship: 4 % of all lines (exactly 60 live lines by default), so its
            # "Budget Lines" back-relation is well over the 25 a page object shows.
            target = round(plan.count * FLAGSHIP_SHARE)
            others = sum(weights) - weights[0]
            orphans = 0
            for _ in range(8):  # a few rounds converge: orphan defects do not count as live lines
                share = min(0.5, (target + orphans) / max(plan.count, 1))
                weights[0] = share * others / (1.0 - share)
                self.assignment = Assignment(plan.count, weights, key)
                orphans = sum(1 for i in self.assignment.sources(0) if self.defects.kind(i) in ORPHAN_CLASSES)
                if self.assignment.size(0) - orphans == target:
                    break
        self.relations[self.ids["Project"]] = (self.assignment, model.projects_ordinal)
        i = self.ids
        self._keys = (
            i["Project"],
            i["Category"],
            i["Vendor"],
            i["Amount"],
            i["Actual Amount"],
            i["Currency"],
            i["Committed Date"],
            i["Invoice Date"],
            i["Paid Date"],
            i["Line ID"],
        )

    def values(self, index: int) -> dict[str, Any]:
        m = self.model
        rng = Rng(self.key, index)
        project = self.assignment.target(index)
        profile = m.project(project)
        defect = self.defects.kind(index)
        vendor = VENDORS[rng.next() % len(VENDORS)]
        item = LINE_ITEMS[rng.next() % len(LINE_ITEMS)]
        category = "CapEx" if rng.random() < 0.4 else "OpEx"
        currency = profile.currency if rng.random() < 0.85 else CURRENCIES[rng.next() % 3]
        amount = round(rng.uniform(1_000, 250_000) * FX_SCALE[currency], 2)
        span = max(1, min(profile.end, 90) - profile.start)
        committed = profile.start + rng.next() % span
        invoice = committed + 10 + rng.next() % 51
        paid = invoice + 5 + rng.next() % 41
        actual = round(amount * rng.uniform(0.85, 1.12), 2) if paid <= 0 else None
        parent = m.page_id(m.projects_ordinal, project)
        if defect is not None:
            if defect in ("orphan_missing", "orphan_trashed"):
                parent = self._orphan_target(defect, index)
            elif defect == "unknown_currency":
                currency = "GBP" if index % 2 else "XXX"
            elif defect == "negative_amount":
                amount = -amount
        k = self._keys
        return {
            "title": "" if defect == "blank_name" else f"{vendor} - {item}",
            k[0]: [parent],
            k[1]: category,
            k[2]: vendor,
            k[3]: amount,
            k[4]: actual,
            k[5]: currency,
            k[6]: m.day(committed),
            k[7]: m.day(invoice) if invoice <= 0 else None,
            k[8]: m.day(paid) if paid <= 0 else None,
            k[9]: index + 1,
        }


class RiskGenerator(PageGenerator):
    kind = "risks"

    def __init__(self, model: WorkspaceModel, plan: DatabasePlan, schema: DatabaseSchema) -> None:
        super().__init__(model, plan, schema)
        self.assignment = Assignment(plan.count, model.parent_weights("risks>projects", 1.0), self.key)
        self.relations[self.ids["Project"]] = (self.assignment, model.projects_ordinal)

    def values(self, index: int) -> dict[str, Any]:
        m, ids = self.model, self.ids
        rng = Rng(self.key, index)
        defect = self.defects.kind(index)
        parent = m.page_id(m.projects_ordinal, self.assignment.target(index))
        if defect in ("orphan_missing", "orphan_trashed"):
            parent = self._orphan_target(defect, index)
        title = f"{rng.choice(RISK_TEMPLATES)} #{index + 1}"
        values = {
            "title": "" if defect == "blank_name" else title,
            ids["Project"]: [parent],
            ids["Severity"]: rng.weighted(("Critical", "High", "Medium", "Low"), (0.1, 0.25, 0.4, 0.25)),
            ids["Probability"]: rng.weighted(LEVELS, (0.25, 0.45, 0.3)),
            ids["Status"]: rng.weighted(("Open", "Mitigating", "Closed"), (0.45, 0.3, 0.25)),
            ids["Owner"]: [m.person(rng.next())],
            ids["Risk ID"]: index + 1,
        }
        extra = Rng(self.key, index, EXTRA)
        values[ids["Category"]] = None if extra.chance(0.3) else extra.choice(RISK_CATEGORIES)
        reviewers: list[str] = []
        if not extra.chance(0.5):
            reviewers = [m.bot.id if extra.chance(0.2) else m.person(extra.next())]
        values[ids["Reviewers"]] = reviewers
        values[ids["Mitigation Plan"]] = (
            None if extra.chance(0.6) else f"https://intranet.ppm-sandbox.example/risks/rsk-{index + 1}"
        )
        return values


class ActionGenerator(PageGenerator):
    kind = "actions"

    def __init__(self, model: WorkspaceModel, plan: DatabasePlan, schema: DatabaseSchema) -> None:
        super().__init__(model, plan, schema)
        self.assignment = Assignment(plan.count, model.parent_weights("actions>projects", 1.0), self.key)
        self.relations[self.ids["Project"]] = (self.assignment, model.projects_ordinal)

    def values(self, index: int) -> dict[str, Any]:
        m, ids = self.model, self.ids
        rng = Rng(self.key, index)
        defect = self.defects.kind(index)
        parent = m.page_id(m.projects_ordinal, self.assignment.target(index))
        if defect in ("orphan_missing", "orphan_trashed"):
            parent = self._orphan_target(defect, index)
        due = rng.between(-120, 90)
        status = (
            rng.weighted(("Done", "In progress", "Not started"), (0.6, 0.25, 0.15))
            if due < 0
            else rng.weighted(("Done", "In progress", "Not started"), (0.1, 0.4, 0.5))
        )
        source = rng.weighted(("Manual", "Advisor", "DQ"), (0.6, 0.25, 0.15))
        if source == "Advisor":
            source_id = f"advisor:{rng.next():016x}"
        elif source == "DQ":
            source_id = f"dq:{rng.choice(DQ_RULES)}:{rng.next() & 0xFFFFFFFF:08x}"
        else:
            source_id = ""
        title: str | list[dict[str, Any]] = f"{rng.choice(ACTION_TEMPLATES)} #{index + 1}"
        extra = Rng(self.key, index, EXTRA)
        if extra.chance(0.12):  # "… for @Name": a title with a user mention
            title = [_text(f"{title} for "), self.mention(m.person(extra.next()))]
        blocked: list[str] = []
        if self.count > 1 and extra.chance(0.15):
            other = (index + 1 + extra.below(self.count - 1)) % self.count
            blocked = [m.page_id(self.ordinal, other)]
        return {
            "title": "" if defect == "blank_name" else title,
            ids["Blocked By"]: blocked,
            ids["Project"]: [parent],
            ids["Assignee"]: [m.person(rng.next())],
            ids["Due Date"]: m.day(due),
            ids["Status"]: status,
            ids["Source"]: source,
            ids["Source ID"]: source_id,
            ids["Priority"]: rng.weighted(LEVELS, (0.3, 0.5, 0.2)),
            ids["Action ID"]: index + 1,
        }


GENERATORS: dict[str, type[PageGenerator]] = {
    "programs": ProgramGenerator,
    "projects": ProjectGenerator,
    "budget_lines": BudgetLineGenerator,
    "risks": RiskGenerator,
    "actions": ActionGenerator,
}


def make_generator(model: WorkspaceModel, plan: DatabasePlan, schema: DatabaseSchema) -> PageGenerator:
    return GENERATORS[plan.kind](model, plan, schema)
