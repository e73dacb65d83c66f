-- gold.project_health: per live project a 0-100 health score and RAG status, with the drivers as columns.
-- Databricks SQL. Parameters: :as_of (reference date 'YYYY-MM-DD'), :reporting_currency (e.g. 'USD').
-- score = round(100 - budget_penalty - risk_penalty - overdue_penalty - slip_penalty), floored at 0:
--   budget_penalty  = min(40, 100 * max(0, burn_ratio - elapsed_ratio))   (burn ahead of time)
--   risk_penalty    = min(30, 2 * sum over open risks of severity x probability)
--   overdue_penalty = min(20, 5 * overdue actions)
--   slip_penalty    = min(30, schedule slip days / 3)
-- RAG: green >= 75, amber 50-74, red < 50. Full definitions: docs/data-dictionary.md (Gold finance marts).
WITH
-- include: gold/fragments/line_facts.sql
,
-- include: gold/fragments/project_budgets.sql
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
      CASE severity WHEN 'Critical' THEN 4 WHEN 'High' THEN 3 WHEN 'Medium' THEN 2 WHEN 'Low' THEN 1 ELSE 0 END
      * CASE probability WHEN 'High' THEN 3 WHEN 'Medium' THEN 2 WHEN 'Low' THEN 1 ELSE 0 END
    ) AS risk_exposure
  FROM silver.risks
  -- Option names compare exactly, as the accepted-values checks do (config/dq_rules.yaml): a risk is open unless
  -- its status is exactly 'Closed' (no status counts as open); another severity or probability weighs 0.
  WHERE NOT coalesce(is_archived, false)
    AND coalesce(status, '') <> 'Closed'
  GROUP BY project_page_id
),
overdue AS (
  SELECT a.project_page_id, count(*) AS overdue_actions
  FROM silver.actions a
  CROSS JOIN reference x
  WHERE NOT coalesce(a.is_archived, false)
    AND coalesce(a.status, '') <> 'Done'  -- exactly; no status counts as not done
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
