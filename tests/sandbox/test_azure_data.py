"""The Azure emulator's data and bookkeeping without a server: generator, store, quota, page tokens, TLS."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509

from ppm_sandbox.azure import generator
from ppm_sandbox.azure.advisor import parse_filter
from ppm_sandbox.azure.config import DEFAULT_SUBSCRIPTION_IDS, AzureConfig
from ppm_sandbox.azure.pagetokens import PageTokens, binding
from ppm_sandbox.azure.quota import QuotaTracker
from ppm_sandbox.azure.service import live_project_count
from ppm_sandbox.azure.store import AzureStore
from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.notion.workspace import NotionConfig
from ppm_sandbox.tls import ensure_certificate, make_certificate

AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")


@pytest.fixture(scope="module")
def store() -> AzureStore:
    return AzureStore(AzureConfig(), project_count=live_project_count(NotionConfig()))


def test_projects_are_the_live_notion_projects() -> None:
    assert live_project_count(NotionConfig()) == 59  # 60 demo projects, the last one starts in the trash
    assert generator.project_ids(3) == ("PRJ-1", "PRJ-2", "PRJ-3")


def test_generation_is_deterministic_per_seed() -> None:
    a, b = (generator.make_plan(AzureConfig(), 59) for _ in range(2))
    c = generator.make_plan(AzureConfig(seed=7), 59)
    assert [generator.resource(a, i) for i in range(50)] == [generator.resource(b, i) for i in range(50)]
    assert [generator.resource(a, i).tags for i in range(50)] != [
        generator.resource(c, i).tags for i in range(50)
    ]
    assert generator.generate_recommendations(a) == generator.generate_recommendations(b)


def test_demo_inventory_shape(store: AzureStore) -> None:
    counts = store.counts()
    assert counts["subscriptions"] == 3 and counts["resource_groups"] == 40 and counts["resources"] == 2000
    assert [s.display_name for s in store.subscriptions()] == ["ppm-prod", "ppm-nonprod", "ppm-shared"]
    assert [s.subscription_id for s in store.subscriptions()] == list(DEFAULT_SUBSCRIPTION_IDS)
    links = counts["links"]
    assert 0.50 <= links["own"] / 2000 <= 0.60
    assert 0.20 <= links["group"] / 2000 <= 0.30
    assert 0.15 <= links["none"] / 2000 <= 0.25
    resources = list(store.resources())
    assert len({r.id.lower() for r in resources}) == 2000
    types = Counter(r.resource_type for r in resources)
    assert {
        "Microsoft.Compute/virtualMachines",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Sql/servers/databases",
    } <= set(types)
    row = resources[0].to_row(store.tenant_id)
    assert row["type"] == row["type"].lower() and row["resourceGroup"] == row["resourceGroup"].lower()
    assert "/providers/Microsoft." in row["id"]


def test_tags_point_at_live_notion_projects_or_at_planted_defects(store: AzureStore) -> None:
    live = set(generator.project_ids(59))
    values = {
        tags[generator.PROJECT_TAG]
        for r in store.resources()
        if (tags := r.tags) and generator.PROJECT_TAG in tags
    }
    assert values - live == {generator.UNKNOWN_PROJECT}
    assert "PRJ-60" not in values  # the trashed project
    group_values = {
        g.tags[generator.PROJECT_TAG]
        for g in store.resource_groups()
        if g.tags and generator.PROJECT_TAG in g.tags
    }
    assert group_values <= live


def test_planted_defects(store: AzureStore) -> None:
    defects = store.defects()
    kinds = Counter(d.kind for d in defects)
    assert kinds["unknown_project"] == kinds["tag_name_case"] == 20
    assert set(kinds) == {*generator.RESOURCE_DEFECTS, *generator.RECOMMENDATION_DEFECTS}
    orphan = next(d for d in defects if d.kind == "orphan_resource")
    with pytest.raises(KeyError):
        store.resource(orphan.target.split("/providers/Microsoft.Advisor/")[0])
    scoped = next(d for d in defects if d.kind == "resource_group_scope")
    assert scoped.target.split("/providers/")[0].count("/") == 4  # /subscriptions/<id>/resourceGroups/<rg>
    cased = next(d for d in defects if d.kind == "tag_name_case")
    assert "PPM-Project" in (store.resource(cased.target).tags or {})


def test_recommendations_shape(store: AzureStore) -> None:
    recs = store.recommendations()
    assert len(recs) == 300
    categories = Counter(r.category for r in recs)
    assert set(categories) == set(generator.CATEGORIES)
    assert 0.35 <= categories["Cost"] / 300 <= 0.50
    assert set(Counter(r.impact for r in recs)) == {"High", "Medium", "Low"}
    currencies = Counter()
    for rec in recs:
        body = rec.to_json()
        ext = body["properties"].get("extendedProperties", {})
        assert all(isinstance(v, str) for v in ext.values())
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$", body["properties"]["lastUpdated"])
        assert body["id"].endswith(f"/providers/Microsoft.Advisor/recommendations/{body['name']}")
        if rec.category == "Cost":
            currencies[ext["savingsCurrency"]] += 1
            for key in ("savingsAmount", "annualSavingsAmount"):
                if key in ext:
                    assert AMOUNT.match(ext[key]), ext[key]
    assert currencies["USD"] > currencies["EUR"] > 0 and currencies["XYZ"] >= 1


def test_money_formatting() -> None:
    from decimal import Decimal

    assert [generator.money(Decimal(x)) for x in ("1481.40", "12.00", "1200", "-42.50", "0.05")] == [
        "1481.4",
        "12",
        "1200",
        "-42.5",
        "0.05",
    ]


def test_bench_puts_every_resource_in_the_first_subscription() -> None:
    plan = generator.make_plan(AzureConfig.bench(100_000), 59)
    assert plan.resource_count == 100_000
    for index in (0, 1, 7, 4_321, 99_999):
        assert generator.resource(plan, index).subscription_id == DEFAULT_SUBSCRIPTION_IDS[0]


def test_store_mutations_and_access() -> None:
    store = AzureStore(AzureConfig(recommendations=20), project_count=59)
    prod, nonprod, _ = DEFAULT_SUBSCRIPTION_IDS
    version = store.version
    store.deny_subscription(nonprod)
    assert not store.can_read("anyone", nonprod) and store.readable("anyone") == [
        prod,
        DEFAULT_SUBSCRIPTION_IDS[2],
    ]
    store.allow_subscription(nonprod)
    store.deny_subscription(nonprod, client_id="app-1")
    assert store.can_read("app-2", nonprod) and not store.can_read("app-1", nonprod)
    group = store.add_resource_group(prod, "rg-Lab", tags={"ppm-project": "PRJ-3"})
    res = store.add_resource(prod, "RG-LAB", "Microsoft.Web/sites", "app-lab", tags=None)
    assert res.id == f"/subscriptions/{prod}/resourceGroups/rg-Lab/providers/Microsoft.Web/sites/app-lab"
    assert store.link(res) == "group"
    store.update_tags(res.id.upper(), {"ppm-project": "PRJ-4"})
    assert store.resource(res.id).tags == {"ppm-project": "PRJ-4"}
    generated = next(store.resources([prod]))
    store.set_tags(generated.id, {"owner": "x"})
    assert store.resource(generated.id).tags == {"owner": "x"}
    store.set_tags(group.id, None)
    assert store.resource_group(prod, "rg-lab").tags is None
    store.remove_resource(generated.id)
    with pytest.raises(KeyError):
        store.resource(generated.id)
    rec = store.add_recommendation(res.id, extended={"savingsAmount": "12", "savingsCurrency": "USD"})
    assert rec.impacted_field == "Microsoft.Web/sites" and rec.impacted_value == "app-lab"
    store.remove_recommendation(rec.id)
    lab = store.add_subscription("ppm-lab")
    assert lab.subscription_id.endswith("3a04") and store.counts()["subscriptions"] == 4
    store.remove_resource_group(prod, "rg-lab")
    with pytest.raises(KeyError):
        store.resource(res.id)
    store.remove_subscription(prod)
    assert store.recommendations(prod) == [] and not list(store.resources([prod]))
    assert store.version > version
    store.reset()
    assert store.counts()["resources"] == 2000 and store.denied() == []


def test_quota_windows_on_the_sandbox_clock() -> None:
    clock = SandboxClock(frozen_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    quota = QuotaTracker(clock, quota=3, window_s=5)
    verdicts = [quota.take("app") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.headers()["x-ms-user-quota-remaining"] for v in verdicts] == ["2", "1", "0", "0"]
    assert verdicts[0].headers()["x-ms-user-quota-resets-after"] == "00:00:05"
    assert verdicts[3].headers()["Retry-After"] == "5"
    assert quota.take("other").allowed  # per principal
    clock.advance(3.2)
    assert quota.take("app").headers()["x-ms-user-quota-resets-after"] == "00:00:02"
    clock.advance(2)
    fresh = quota.take("app")
    assert fresh.allowed and fresh.remaining == 2
    quota.configure(retry_after=False, quota=1)
    quota.take("app")
    assert "Retry-After" not in quota.take("app").headers()
    quota.reset()
    assert (quota.quota, quota.window_s, quota.retry_after) == (3, 5, True)


def test_page_tokens_are_signed_and_bound() -> None:
    tokens = PageTokens()
    bound = binding("Resources | project id", "sub")
    token = tokens.issue(bound, 1000, 1000)
    assert tokens.read(token, bound) == (1000, 1000)
    for bad in (token[:-4] + "AAAA", "not-a-token", PageTokens().issue(bound, 0, 10)):
        with pytest.raises(ValueError):
            tokens.read(bad, bound)
    with pytest.raises(ValueError):
        tokens.read(token, binding("Resources | project name", "sub"))
    assert re.match(r"^[A-Za-z0-9_-]+$", tokens.issue(bound, 5, 5, url_safe=True))


def test_advisor_filter(store: AzureStore) -> None:
    recs = store.recommendations()
    cost = parse_filter("Category eq 'cost'")
    assert {r.category for r in recs if cost(r)} == {"Cost"}
    group = recs[0].resource_group
    both = parse_filter(f"(Category eq 'Cost' or Category eq 'Security') and ResourceGroup eq '{group}'")
    assert all(r.category in ("Cost", "Security") and r.resource_group == group for r in recs if both(r))
    for bad in ("Category ne 'Cost'", "Nope eq 'x'", "Category eq 'Cost' and", "(Category eq 'Cost'"):
        with pytest.raises(ValueError):
            parse_filter(bad)


def test_certificate_is_a_trust_anchor_for_local_hosts(tmp_path: Path) -> None:
    cert_pem, key_pem = make_certificate()
    cert = x509.load_pem_x509_certificate(cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1"}
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert b"PRIVATE KEY" in key_pem
    first = ensure_certificate(tmp_path)
    pem = first.cert.read_bytes()
    again = ensure_certificate(tmp_path)
    assert again == first and again.cert.read_bytes() == pem  # reused while valid
    other = ensure_certificate(tmp_path, ["10.1.2.3"])
    assert other.cert.read_bytes() != pem  # a new host needs a new certificate
