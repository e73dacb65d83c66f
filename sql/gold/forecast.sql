-- gold.forecast: per live project, estimate at completion (EAC) from the recent burn rate and the projected
-- cumulative spend month by month from the as_of month to the end month. Databricks SQL.
-- Parameters: :as_of (reference date 'YYYY-MM-DD'), :reporting_currency (e.g. 'USD').
--   monthly_burn_rate      = actuals of the 3 calendar months before the as_of month / 3
--   remaining_months       = months from the as_of month to the end month (0 if completed, ended or no end date)
--   estimate_at_completion = actual_to_date + monthly_burn_rate * remaining_months
--   projected_overrun      = estimate_at_completion - budget_total
-- One row per project and month (months_ahead 0 .. remaining_months). Full definitions: docs/gold-formulas.md.
WITH
-- <shared:line_facts> one row per budget line: attribution months, amounts converted to the reporting
-- currency, and the first exclusion reason that applies (NULL = clean). Identical in every sql/gold file
-- that has it (tests/gold/test_sql_files.py checks this); change all copies together.
fx AS (
  SELECT currency, month, rate_to_base FROM silver.fx_rates
),
fx_currencies AS (
  SELECT DISTINCT currency FROM silver.fx_rates
),
reporting_fx AS (
  SELECT month, rate_to_base FROM silver.fx_rates WHERE currency = :reporting_currency
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
      WHEN l.currency <> :reporting_currency AND ((
        l.amount IS NOT NULL AND l.budget_period IS NOT NULL
        AND (fb.rate_to_base IS NULL OR rb.rate_to_base IS NULL)
      ) OR (
        l.actual_amount IS NOT NULL AND l.actual_period IS NOT NULL
        AND (fa.rate_to_base IS NULL OR ra.rate_to_base IS NULL)
      )) THEN 'no_fx_rate'
      WHEN g.page_id IS NULL THEN 'no_program'
    END AS exclusion_reason,
    -- An amount already in the reporting currency needs no rate.
    CASE
      WHEN l.currency = :reporting_currency THEN l.amount
      ELSE CAST(round(l.amount * fb.rate_to_base / rb.rate_to_base, 2) AS DECIMAL(18, 2))
    END AS budget_converted,
    CASE
      WHEN l.currency = :reporting_currency THEN l.actual_amount
      ELSE CAST(round(l.actual_amount * fa.rate_to_base / ra.rate_to_base, 2) AS DECIMAL(18, 2))
    END AS actual_converted
  FROM dated_lines l
  LEFT JOIN live_projects p ON p.page_id = l.project_page_id
  LEFT JOIN live_programs g ON g.page_id = p.program_page_id
  LEFT JOIN fx_currencies c ON c.currency = l.currency
  LEFT JOIN fx fb ON fb.currency = l.currency AND fb.month = l.budget_period
  LEFT JOIN reporting_fx rb ON rb.month = l.budget_period
  LEFT JOIN fx fa ON fa.currency = l.currency AND fa.month = l.actual_period
  LEFT JOIN reporting_fx ra ON ra.month = l.actual_period
)
-- </shared:line_facts>
,
-- <shared:project_budgets> live projects with their budget total in the reporting currency, converted at
-- the rate of the as_of month (or of the latest earlier month with both rates, when the rates end sooner;
-- a budget already in the reporting currency needs no rate).
-- Identical in every sql/gold file that has it (tests/gold/test_sql_files.py checks this).
reference AS (
  SELECT CAST(:as_of AS DATE) AS as_of, trunc(CAST(:as_of AS DATE), 'MM') AS as_of_month
),
projects AS (
  SELECT
    page_id,
    notion_url,
    coalesce(nullif(trim(name), ''), project_code, page_id) AS project_name,
    project_code,
    program_page_id,
    status,
    lower(trim(coalesce(status, ''))) = 'completed' AS is_completed,
    currency,
    budget_total AS budget_total_original,
    start_date,
    end_date
  FROM silver.projects
  WHERE NOT coalesce(is_archived, false)
),
project_rates AS (
  SELECT p.page_id, f.month AS rate_month, f.rate_to_base / r.rate_to_base AS rate
  FROM projects p
  CROSS JOIN reference x
  JOIN silver.fx_rates f ON f.currency = p.currency AND f.month <= x.as_of_month
  JOIN silver.fx_rates r ON r.currency = :reporting_currency AND r.month = f.month
  QUALIFY row_number() OVER (PARTITION BY p.page_id ORDER BY f.month DESC) = 1
),
project_budgets AS (
  SELECT
    p.*,
    x.as_of,
    x.as_of_month,
    CASE
      WHEN p.budget_total_original < 0 THEN NULL
      WHEN p.currency = :reporting_currency THEN CAST(p.budget_total_original AS DECIMAL(18, 2))
      ELSE CAST(round(p.budget_total_original * r.rate, 2) AS DECIMAL(18, 2))
    END AS budget_total
  FROM projects p
  CROSS JOIN reference x
  LEFT JOIN project_rates r ON r.page_id = p.page_id
)
-- </shared:project_budgets>
,
burn AS (
  SELECT
    f.project_page_id,
    sum(CASE WHEN f.actual_date <= x.as_of THEN f.actual_converted END) AS actual_to_date,
    sum(
      CASE
        WHEN f.actual_period >= add_months(x.as_of_month, -3) AND f.actual_period < x.as_of_month
          THEN f.actual_converted
      END
    ) AS recent_actual
  FROM line_facts f
  CROSS JOIN reference x
  -- 'no_program' only corrupts the program dimension: those lines still count for their project.
  WHERE (f.exclusion_reason IS NULL OR f.exclusion_reason = 'no_program')
    AND f.actual_converted IS NOT NULL
  GROUP BY f.project_page_id
),
rates AS (
  SELECT
    p.*,
    CAST(coalesce(b.actual_to_date, 0) AS DECIMAL(18, 2)) AS actual_to_date,
    CAST(round(coalesce(b.recent_actual, 0) / 3, 2) AS DECIMAL(18, 2)) AS monthly_burn_rate,
    CAST(
      CASE
        WHEN p.is_completed OR p.end_date IS NULL THEN 0
        ELSE greatest(0, (year(p.end_date) - year(p.as_of_month)) * 12 + month(p.end_date) - month(p.as_of_month))
      END AS INT
    ) AS remaining_months
  FROM project_budgets p
  LEFT JOIN burn b ON b.project_page_id = p.page_id
),
estimates AS (
  SELECT
    *,
    CAST(actual_to_date + monthly_burn_rate * remaining_months AS DECIMAL(18, 2)) AS estimate_at_completion
  FROM rates
),
overruns AS (
  SELECT
    *,
    CAST(estimate_at_completion - budget_total AS DECIMAL(18, 2)) AS projected_overrun,
    CAST(
      CASE
        WHEN budget_total > 0
          THEN round(CAST(estimate_at_completion - budget_total AS DOUBLE) / CAST(budget_total AS DOUBLE) * 100, 2)
      END AS DECIMAL(18, 2)
    ) AS projected_overrun_pct
  FROM estimates
)
SELECT
  o.page_id AS project_page_id,
  o.project_name,
  o.project_code,
  o.program_page_id,
  o.status,
  o.end_date,
  o.as_of,
  CAST(add_months(o.as_of_month, m.months_ahead) AS DATE) AS forecast_month,
  CAST(m.months_ahead AS INT) AS months_ahead,
  CAST(o.actual_to_date + o.monthly_burn_rate * m.months_ahead AS DECIMAL(18, 2)) AS projected_cumulative_spend,
  o.actual_to_date,
  o.monthly_burn_rate,
  o.remaining_months,
  o.estimate_at_completion,
  o.budget_total,
  o.projected_overrun,
  o.projected_overrun_pct,
  :reporting_currency AS unit
FROM overruns o
LATERAL VIEW explode(sequence(0, o.remaining_months)) m AS months_ahead
ORDER BY o.project_name, o.page_id, months_ahead
