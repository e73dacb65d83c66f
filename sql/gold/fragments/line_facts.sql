-- Fragment included by sql/gold files (`-- include: gold/fragments/line_facts.sql`): common table
-- expressions, without WITH and without a trailing comma.
-- line_facts: one row per budget line: attribution months, amounts converted to the reporting currency,
-- and the first exclusion reason that applies (NULL = clean).
-- Money is exact: silver.fx_rates holds the rate of every currency pair (DECIMAL(16,10)), so converting is one
-- multiplication of DECIMAL(20,2) by DECIMAL(16,10) (precision 37: exact on every engine), rounded half up to
-- cents. No decimal is divided (DuckDB would divide in DOUBLE).
fx AS (
  SELECT currency, month, rate FROM silver.fx_rates WHERE to_currency = :reporting_currency
),
fx_currencies AS (
  SELECT DISTINCT currency FROM silver.fx_rates
),
live_programs AS (
  SELECT page_id, coalesce(nullif(trim(name), ''), program_code, page_id) AS program_name
  FROM silver.programs
  WHERE NOT coalesce(is_archived, false)
),
live_projects AS (
  SELECT page_id, program_page_id, coalesce(nullif(trim(name), ''), project_code, page_id) AS project_name
  FROM silver.projects
  WHERE NOT coalesce(is_archived, false)
),
dated_lines AS (
  SELECT
    page_id,
    notion_url,
    line_code,
    project_page_id,
    category,
    currency,
    amount,
    actual_amount,
    coalesce(is_archived, false) AS is_archived,
    trunc(committed_date, 'MM') AS budget_period,
    coalesce(paid_date, invoice_date) AS actual_date,
    trunc(coalesce(paid_date, invoice_date), 'MM') AS actual_period
  FROM silver.budget_lines
),
line_facts AS (
  SELECT
    l.page_id,
    l.notion_url,
    l.line_code,
    l.project_page_id,
    p.project_name,
    g.page_id AS program_page_id,
    g.program_name,
    coalesce(nullif(trim(l.category), ''), '(none)') AS category,
    l.currency,
    l.amount,
    l.actual_amount,
    l.budget_period,
    l.actual_date,
    l.actual_period,
    CASE
      WHEN l.is_archived THEN 'archived'
      WHEN p.page_id IS NULL THEN 'orphan_project'
      WHEN l.amount < 0 OR l.actual_amount < 0 THEN 'negative_amount'
      WHEN (l.amount IS NOT NULL OR l.actual_amount IS NOT NULL) AND c.currency IS NULL THEN 'unknown_currency'
      WHEN l.currency <> :reporting_currency AND (
        (l.amount IS NOT NULL AND l.budget_period IS NOT NULL AND fb.rate IS NULL)
        OR (l.actual_amount IS NOT NULL AND l.actual_period IS NOT NULL AND fa.rate IS NULL)
      ) THEN 'no_fx_rate'
      WHEN g.page_id IS NULL THEN 'no_program'
    END AS exclusion_reason,
    -- An amount already in the reporting currency needs no rate.
    CASE
      WHEN l.currency = :reporting_currency THEN l.amount
      ELSE CAST(round(CAST(l.amount AS DECIMAL(20, 2)) * fb.rate, 2) AS DECIMAL(18, 2))
    END AS budget_converted,
    CASE
      WHEN l.currency = :reporting_currency THEN l.actual_amount
      ELSE CAST(round(CAST(l.actual_amount AS DECIMAL(20, 2)) * fa.rate, 2) AS DECIMAL(18, 2))
    END AS actual_converted
  FROM dated_lines l
  LEFT JOIN live_projects p ON p.page_id = l.project_page_id
  LEFT JOIN live_programs g ON g.page_id = p.program_page_id
  LEFT JOIN fx_currencies c ON c.currency = l.currency
  LEFT JOIN fx fb ON fb.currency = l.currency AND fb.month = l.budget_period
  LEFT JOIN fx fa ON fa.currency = l.currency AND fa.month = l.actual_period
)
