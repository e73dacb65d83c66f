-- Fragment included by sql/gold files (`-- include: gold/fragments/project_budgets.sql`): common table
-- expressions, without WITH and without a trailing comma.
-- live projects with their budget total in the reporting currency, converted at
-- the rate of the as_of month (or of the latest earlier month with both rates, when the rates end sooner;
-- a budget already in the reporting currency needs no rate).
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
    coalesce(status = 'Completed', false) AS is_completed,  -- the exact option name, as accepted_values checks it
    currency,
    budget_total AS budget_total_original,
    start_date,
    end_date
  FROM silver.projects
  WHERE NOT coalesce(is_archived, false)
),
project_rates AS (
  SELECT p.page_id, f.month AS rate_month, f.rate
  FROM projects p
  CROSS JOIN reference x
  JOIN silver.fx_rates f
    ON f.currency = p.currency AND f.to_currency = :reporting_currency AND f.month <= x.as_of_month
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
      ELSE CAST(round(CAST(p.budget_total_original AS DECIMAL(20, 2)) * r.rate, 2) AS DECIMAL(18, 2))
    END AS budget_total
  FROM projects p
  CROSS JOIN reference x
  LEFT JOIN project_rates r ON r.page_id = p.page_id
)
