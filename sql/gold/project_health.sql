-- gold.project_health: per live project a 0-100 health score and RAG status, with the drivers as columns.
-- Databricks SQL. Parameters: :as_of (reference date 'YYYY-MM-DD'), :reporting_currency (e.g. 'USD').
-- score = round(100 - budget_penalty - risk_penalty - overdue_penalty - slip_penalty), floored at 0:
--   budget_penalty  = min(40, 100 * max(0, burn_ratio - elapsed_ratio))   (burn ahead of time)
--   risk_penalty    = min(30, 2 * sum over open risks of severity x probability)
--   overdue_penalty = min(20, 5 * overdue actions)
--   slip_penalty    = min(30, schedule slip days / 3)
-- RAG: green >= 75, amber 50-74, red < 50. Full definitions: docs/gold-formulas.md.
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
actuals AS (
  SELECT f.project_page_id, sum(f.actual_converted) AS actual_to_date
  FROM line_facts f
  CROSS JOIN reference x
  -- 'no_program' only corrupts the program dimension: those lines still count for their project.
  WHERE (f.exclusion_reason IS NULL OR f.exclusion_reason = 'no_program')
    AND f.actual_converted IS NOT NULL
    AND f.actual_date <= x.as_of
  GROUP BY f.project_page_id
),
open_risks AS (
  SELECT
    project_page_id,
    count(*) AS open_risks,
    sum(
      CASE lower(trim(severity)) WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END
      * CASE lower(trim(probability)) WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END
    ) AS risk_exposure
  FROM silver.risks
  WHERE NOT coalesce(is_archived, false)
    AND lower(trim(coalesce(status, ''))) <> 'closed'
  GROUP BY project_page_id
),
overdue AS (
  SELECT a.project_page_id, count(*) AS overdue_actions
  FROM silver.actions a
  CROSS JOIN reference x
  WHERE NOT coalesce(a.is_archived, false)
    AND lower(trim(coalesce(a.status, ''))) <> 'done'
    AND a.due_date < x.as_of
  GROUP BY a.project_page_id
),
drivers AS (
  SELECT
    p.*,
    CAST(coalesce(a.actual_to_date, 0) AS DECIMAL(18, 2)) AS actual_to_date,
    CASE
      WHEN p.budget_total > 0
        THEN CAST(coalesce(a.actual_to_date, 0) AS DOUBLE) / CAST(p.budget_total AS DOUBLE)
    END AS burn_ratio,
    CASE
      WHEN p.start_date IS NULL OR p.end_date IS NULL THEN CAST(NULL AS DOUBLE)
      WHEN p.end_date <= p.start_date THEN CASE WHEN p.as_of >= p.end_date THEN 1.0D ELSE 0.0D END
      ELSE least(1.0D, greatest(0.0D,
        CAST(datediff(p.as_of, p.start_date) AS DOUBLE) / CAST(datediff(p.end_date, p.start_date) AS DOUBLE)))
    END AS elapsed_ratio,
    CAST(coalesce(r.open_risks, 0) AS BIGINT) AS open_risks,
    CAST(coalesce(r.risk_exposure, 0) AS BIGINT) AS risk_exposure,
    CAST(coalesce(o.overdue_actions, 0) AS BIGINT) AS overdue_actions,
    CAST(
      CASE WHEN p.end_date < p.as_of AND NOT p.is_completed THEN datediff(p.as_of, p.end_date) ELSE 0 END
      AS BIGINT
    ) AS schedule_slip_days
  FROM project_budgets p
  LEFT JOIN actuals a ON a.project_page_id = p.page_id
  LEFT JOIN open_risks r ON r.project_page_id = p.page_id
  LEFT JOIN overdue o ON o.project_page_id = p.page_id
),
penalties AS (
  SELECT
    *,
    least(40.0D, 100.0D * greatest(0.0D, coalesce(burn_ratio - coalesce(elapsed_ratio, 1.0D), 0.0D))) AS budget_penalty,
    least(30.0D, 2.0D * CAST(risk_exposure AS DOUBLE)) AS risk_penalty,
    least(20.0D, 5.0D * CAST(overdue_actions AS DOUBLE)) AS overdue_penalty,
    least(30.0D, CAST(schedule_slip_days AS DOUBLE) / 3.0D) AS slip_penalty
  FROM drivers
),
scored AS (
  SELECT
    *,
    CAST(greatest(0.0D, round(100.0D - budget_penalty - risk_penalty - overdue_penalty - slip_penalty)) AS INT)
      AS health_score
  FROM penalties
)
SELECT
  page_id AS project_page_id,
  project_name,
  project_code,
  program_page_id,
  notion_url,
  status,
  start_date,
  end_date,
  as_of,
  health_score,
  CASE WHEN health_score >= 75 THEN 'green' WHEN health_score >= 50 THEN 'amber' ELSE 'red' END AS rag,
  budget_total,
  actual_to_date,
  round(burn_ratio, 4) AS burn_ratio,
  round(elapsed_ratio, 4) AS elapsed_ratio,
  open_risks,
  risk_exposure,
  overdue_actions,
  schedule_slip_days,
  round(budget_penalty, 2) AS budget_penalty,
  round(risk_penalty, 2) AS risk_penalty,
  round(overdue_penalty, 2) AS overdue_penalty,
  round(slip_penalty, 2) AS slip_penalty,
  :reporting_currency AS unit
FROM scored
ORDER BY health_score, project_name, page_id
