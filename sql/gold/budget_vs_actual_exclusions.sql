-- Budget lines excluded from the gold finance marts, one row per line with the reason it was left out.
-- Databricks SQL. Parameter: :reporting_currency (ISO 4217 code of the marts' currency, e.g. 'USD').
-- The data-quality half counts these rows per reason into gold.data_quality_issues.
-- Formulas and reasons: docs/data-dictionary.md (Gold finance marts).
WITH
-- include: gold/fragments/line_facts.sql
SELECT
  page_id,
  notion_url,
  exclusion_reason AS reason,
  CASE exclusion_reason
    WHEN 'archived' THEN 'the line is trashed or deleted in Notion'
    WHEN 'orphan_project' THEN concat('project ', coalesce(project_page_id, '(none)'), ' is not a live project')
    WHEN 'negative_amount' THEN 'amount or actual amount is negative'
    WHEN 'unknown_currency' THEN concat('currency ', coalesce(currency, '(none)'), ' has no FX rate at all')
    WHEN 'no_fx_rate' THEN concat('no ', currency, ' or ', :reporting_currency, ' rate for the committed or paid month')
    WHEN 'no_program' THEN concat('project ', project_page_id, ' has no live program')
  END AS detail,
  line_code,
  project_page_id,
  currency,
  amount,
  actual_amount,
  budget_period,
  actual_period
FROM line_facts
WHERE exclusion_reason IS NOT NULL
