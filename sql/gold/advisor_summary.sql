-- gold.advisor_summary: Azure Advisor recommendations and their savings by category, impact and PPM project,
-- in the reporting currency. Databricks SQL. Parameter: :reporting_currency (e.g. 'USD').
-- One row per (category, impact, project_code, project_page_id) of silver.advisor_recommendations; the
-- recommendations with no project form their own row (project columns NULL). Savings are converted here, from
-- the amounts as sent, by the same rule as silver (silver/fragments/advisor_savings.sql), so the mart is right
-- for :reporting_currency whatever currency silver was built with:
--   monthly_savings = coalesce(sum of converted savings_amount, 0.00)   DECIMAL(18,2), exact (rounded per row)
--   annual_savings  = coalesce(sum of converted annual_savings_amount, 0.00)   (annual as sent, never monthly x 12)
--   unconverted_recommendations = recommendations with a savings amount that is left out of the sums
--                                 (an amount negative, currency unknown, or no rate)
-- Details: docs/data-dictionary.md (Azure).
WITH
advisor_savings_input AS (
  SELECT recommendation_id, savings_amount, annual_savings_amount, savings_currency, ingested_at
  FROM silver.advisor_recommendations
),
-- include: silver/fragments/advisor_savings.sql
,
facts AS (
  SELECT
    r.category,
    r.impact,
    r.project_code,
    r.project_page_id,
    s.monthly_savings_reporting,
    s.annual_savings_reporting,
    s.is_unconverted
  FROM silver.advisor_recommendations r
  JOIN advisor_savings s ON s.recommendation_id = r.recommendation_id
)
SELECT
  f.category,
  f.impact,
  f.project_code,
  f.project_page_id,
  CASE
    WHEN f.project_page_id IS NOT NULL THEN coalesce(nullif(trim(p.name), ''), p.project_code, f.project_page_id)
  END AS project_name,
  count(*) AS recommendations,
  CAST(coalesce(sum(f.monthly_savings_reporting), 0) AS DECIMAL(18, 2)) AS monthly_savings,
  CAST(coalesce(sum(f.annual_savings_reporting), 0) AS DECIMAL(18, 2)) AS annual_savings,
  count_if(f.is_unconverted) AS unconverted_recommendations,
  :reporting_currency AS unit
FROM facts f
LEFT JOIN silver.projects p ON p.page_id = f.project_page_id
GROUP BY f.category, f.impact, f.project_code, f.project_page_id, p.name, p.project_code
ORDER BY f.category NULLS LAST, f.impact NULLS LAST, f.project_code NULLS LAST, f.project_page_id NULLS LAST
