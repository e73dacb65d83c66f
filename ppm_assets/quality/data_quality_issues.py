"""`gold/data_quality_issues`: every failed data-quality rule per evaluation, gold exclusions, and the DQ score.

Each materialization is one evaluation (id = the run id): every rule of `ppm_checks` (config/dq_rules.yaml and
the keys) is evaluated again with the checks' own SQL, and the table gets one row per failed rule, one row per
reason budget lines were excluded from gold (sql/gold/budget_vs_actual_exclusions.sql), and one `dq_score` row,
appended (the table is the history of evaluations). Rules, severities and the score: docs/data-dictionary.md.
"""

from collections import defaultdict
from datetime import UTC, datetime

import dagster as dg
import pyarrow as pa

from ppm_assets.finance.exclusions import EXCLUSION_REASONS, EXCLUSIONS_SQL
from ppm_assets.metadata import table_metadata
from ppm_assets.tables import BUDGET_VS_ACTUAL, DATA_QUALITY_ISSUES, FX_RATES, notion_silver_table
from ppm_checks.catalog import build_catalog
from ppm_checks.config import DqRules, load_dq_rules
from ppm_checks.evaluate import evaluate_all
from ppm_checks.rules import SAMPLE_LIMIT, RuleResult, Sample, Severity
from ppm_checks.score import SCORE_RULE, DqScore
from ppm_resources.lakehouse import Lakehouse, load_sql
from ppm_resources.notion.mapping import NotionMapping
from ppm_resources.reporting_currency import ReportingCurrency

TABLE = DATA_QUALITY_ISSUES.name
KEY = DATA_QUALITY_ISSUES.key
BUDGET_LINES = "silver.budget_lines"
GOLD_BUDGET_VS_ACTUAL = BUDGET_VS_ACTUAL.name

ISSUES_SCHEMA = pa.schema(
    [
        ("evaluation_id", pa.string()),
        ("detected_at", pa.timestamp("us", tz="UTC")),
        ("rule", pa.string()),
        ("rule_family", pa.string()),
        ("asset", pa.string()),
        ("table_name", pa.string()),
        ("severity", pa.string()),
        ("row_level", pa.bool_()),
        ("passed", pa.bool_()),
        ("failing_rows", pa.int64()),
        ("total_rows", pa.int64()),
        ("sample_keys", pa.list_(pa.string())),
        ("sample_urls", pa.list_(pa.string())),
        ("sample_values", pa.list_(pa.string())),
        ("message", pa.string()),
        ("dq_score", pa.float64()),
    ]
)


def exclusion_results(lakehouse: Lakehouse, reporting_currency: str) -> list[RuleResult]:
    """One result per exclusion reason with at least one budget line (lowest page ids as samples)."""
    if not (lakehouse.exists(BUDGET_LINES) and lakehouse.exists(FX_RATES.name)):
        return []  # evaluate_all already reports the missing table
    lines = lakehouse.query(load_sql(EXCLUSIONS_SQL), params={"reporting_currency": reporting_currency})
    total = int(lakehouse.query(f"SELECT count(*) AS n FROM {BUDGET_LINES}").to_pylist()[0]["n"])
    by_reason: dict[str, list[dict]] = defaultdict(list)
    for line in lines.select(["page_id", "notion_url", "reason", "detail"]).to_pylist():
        by_reason[line["reason"]].append(line)
    results = []
    for reason, excluded in sorted(by_reason.items()):
        excluded.sort(key=lambda line: line["page_id"])
        what = EXCLUSION_REASONS.get(reason, reason)
        results.append(
            RuleResult(
                rule=f"excluded_{reason}",
                family="gold_exclusion",
                table=GOLD_BUDGET_VS_ACTUAL,
                severity="INFO" if reason == "archived" else "WARN",
                failing_rows=len(excluded),
                total_rows=total,
                description=f"Budget lines left out of the gold finance marts: {what}.",
                samples=tuple(
                    Sample(line["page_id"], line["notion_url"], line["detail"])
                    for line in excluded[:SAMPLE_LIMIT]
                ),
                message=f"{len(excluded)} of {total} budget lines excluded from gold: {what}.",
                verdict=False,
            )
        )
    return results


def score_result(score: DqScore, min_pct: float, severity: Severity) -> RuleResult:
    """The DQ score as a rule: it fails below `min_pct`; samples are the tables with failing rows."""
    meets = score.meets(min_pct)
    samples = tuple(
        Sample(table, None, f"{failing} of {live} live rows break a row-level rule")
        for table, (live, failing) in score.by_table.items()
        if failing
    )
    return RuleResult(
        rule=SCORE_RULE,
        family="dq_score",
        table=TABLE,
        severity=severity if not meets else "INFO",
        failing_rows=score.failing_rows,
        total_rows=score.live_rows,
        description=f"At least {min_pct:g} % of live silver rows break no row-level rule (runbook P3).",
        samples=samples,
        message=(
            f"DQ score {score.pct:.2f} %: {score.passing_rows} of {score.live_rows} live silver rows break no "
            f"row-level rule (threshold {min_pct:g} %)."
        ),
        verdict=meets,  # recorded when it passes too, so the table keeps the score's history
    )


def issue_rows(
    results: list[RuleResult], evaluation_id: str, detected_at: datetime, score: DqScore
) -> pa.Table:
    """The rows of one evaluation: every result passed in (callers pass the failed ones and the score)."""
    rows = [
        {
            "evaluation_id": evaluation_id,
            "detected_at": detected_at,
            "rule": r.rule,
            "rule_family": r.family,
            "asset": r.asset,
            "table_name": r.table,
            "severity": r.severity,
            "row_level": r.row_level,
            "passed": r.passed,
            "failing_rows": r.failing_rows,
            "total_rows": r.total_rows,
            "sample_keys": [s.key for s in r.samples],
            "sample_urls": [s.url for s in r.samples],
            "sample_values": [s.value for s in r.samples],
            "message": r.message or r.description,
            "dq_score": score.pct,
        }
        for r in results
    ]
    return pa.Table.from_pylist(rows, schema=ISSUES_SCHEMA)


def score_check(score: DqScore, min_pct: float, severity: Severity) -> dg.AssetCheckResult:
    """`dq_score_meets_threshold` on this asset, with the score per table."""
    return dg.AssetCheckResult(
        check_name=SCORE_RULE,
        passed=score.meets(min_pct),
        severity=dg.AssetCheckSeverity.ERROR if severity == "ERROR" else dg.AssetCheckSeverity.WARN,
        description=score_result(score, min_pct, severity).message,
        metadata={
            "dq_score": dg.MetadataValue.float(score.pct),
            "min_pct": dg.MetadataValue.float(float(min_pct)),
            "live_rows": dg.MetadataValue.int(score.live_rows),
            "failing_rows": dg.MetadataValue.int(score.failing_rows),
            "by_table": dg.MetadataValue.json(
                {
                    table: {"live_rows": live, "failing_rows": failing}
                    for table, (live, failing) in score.by_table.items()
                }
            ),
        },
    )


def preview(results: list[RuleResult]) -> dg.MetadataValue:
    """The failed rules and exclusions as a markdown table, the first sample linked to its Notion page."""
    if not results:
        return dg.MetadataValue.md("_no failed rules_")
    lines = ["| rule | asset | severity | failing | first sample |", "|---|---|---|---|---|"]
    for r in results:
        sample = r.samples[0] if r.samples else None
        first = "" if sample is None else f"[{sample.key}]({sample.url})" if sample.url else sample.key
        lines.append(f"| {r.rule} | {r.asset} | {r.severity} | {r.failing_rows} | {first} |")
    return dg.MetadataValue.md("\n".join(lines))


def build_data_quality_issues(mapping: NotionMapping, rules: DqRules | None = None) -> dg.AssetsDefinition:
    """The asset for `mapping` and `rules` (default: config/dq_rules.yaml)."""
    catalog = build_catalog(mapping, rules or load_dq_rules(mapping))
    deps = [
        *(notion_silver_table(name, mapping).key for name in mapping.names),
        FX_RATES.key,
        BUDGET_VS_ACTUAL.key,
    ]
    min_pct = catalog.min_score_pct

    @dg.asset(
        key=KEY,
        deps=deps,
        group_name="quality",
        kinds={"delta", "sql"},
        owners=["team:data-platform"],
        code_version="1",
        description=(
            "One row per failed data-quality rule per evaluation (rule, asset, severity, failing rows, sample "
            "keys with Notion URLs, detected_at), the gold exclusions counted per reason, and the DQ score "
            "(share of live silver rows breaking no row-level rule); appended, one evaluation per run. "
            "Rules: config/dq_rules.yaml, docs/data-dictionary.md."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                SCORE_RULE,
                asset=KEY,
                description=f"DQ score >= {min_pct:g} % (runbook P3: data quality issues).",
            )
        ],
        metadata={"rules": "config/dq_rules.yaml", "exclusions_sql": f"sql/{EXCLUSIONS_SQL}"},
    )
    def data_quality_issues(
        context: dg.AssetExecutionContext, lakehouse: Lakehouse, reporting: ReportingCurrency
    ) -> dg.MaterializeResult:
        detected_at = datetime.now(UTC)
        evaluation = evaluate_all(lakehouse, catalog)
        exclusions = exclusion_results(lakehouse, reporting.currency)
        score = score_result(evaluation.score, min_pct, catalog.severity("dq_score"))
        failed = list(evaluation.failed)
        write = lakehouse.append(
            TABLE,
            issue_rows([*failed, *exclusions, score], context.run.run_id, detected_at, evaluation.score),
        )
        excluded = sum(r.failing_rows for r in exclusions)
        context.log.info(
            "%s: DQ score %.2f %% over %d live rows; %d failed rules (%d ERROR); %d budget lines excluded",
            TABLE,
            evaluation.score.pct,
            evaluation.score.live_rows,
            len(failed),
            sum(1 for r in failed if r.severity == "ERROR"),
            excluded,
        )
        return dg.MaterializeResult(
            metadata={
                **table_metadata(lakehouse, TABLE, write),
                "evaluation_id": dg.MetadataValue.text(context.run.run_id),
                "dq_score": dg.MetadataValue.float(evaluation.score.pct),
                "live_rows": dg.MetadataValue.int(evaluation.score.live_rows),
                "failing_rows": dg.MetadataValue.int(evaluation.score.failing_rows),
                "rules_evaluated": dg.MetadataValue.int(len(evaluation.results)),
                "failing_rules": dg.MetadataValue.int(len(failed)),
                "failing_error_rules": dg.MetadataValue.int(sum(1 for r in failed if r.severity == "ERROR")),
                "excluded_lines": dg.MetadataValue.int(excluded),
                "preview": preview([*failed, *exclusions]),
            },
            check_results=[score_check(evaluation.score, min_pct, catalog.severity("dq_score"))],
        )

    return data_quality_issues
