-- gold.forecast: per live project, estimate at completion (EAC) from the recent burn rate and the projected
-- cumulative spend month by month from the as_of month to the end month. Databricks SQL.
-- Parameters: :as_of (reference date 'YYYY-MM-DD'), :reporting_currency (e.g. 'USD').
--   monthly_burn_rate      = actuals of the 3 calendar months before the as_of month / 3
--   remaining_months       = months from the as_of month to the end month (0 if completed, ended or no end date)
--   estimate_at_completion = actual_to_date + monthly_burn_rate * remaining_months
--   projected_overrun      = estimate_at_completion - budget_total
-- One row per project and month (months_ahead 0 .. remaining_months). Full definitions: docs/data-dictionary.md (Gold finance marts).
WITH
-- include: gold/fragments/line_facts.sql
,
-- include: gold/fragments/project_budgets.sql
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
    -- recent_actual / 3 rounded half up to cents, in exact integer arithmetic (DuckDB would divide decimals
    -- in DOUBLE): a whole number of cents n divided by 3 never ends in a half, so round(n / 3) = (n + 1) DIV 3.
    CAST(((CAST(coalesce(b.recent_actual, 0) * 100 AS BIGINT) + 1) DIV 3) * 0.01 AS DECIMAL(18, 2))
      AS monthly_burn_rate,
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
