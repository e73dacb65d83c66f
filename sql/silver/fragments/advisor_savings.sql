-- Fragment included by sql/silver/advisor_recommendations.sql and sql/gold/advisor_summary.sql
-- (`-- include: silver/fragments/advisor_savings.sql`): common table expressions, without WITH and without a
-- trailing comma. Parameter: :reporting_currency.
-- Reads a CTE the including file defines first:
--   advisor_savings_input(recommendation_id, savings_amount, annual_savings_amount, savings_currency, ingested_at)
-- with recommendation_id unique. advisor_savings gives, per recommendation, the savings in the reporting currency:
--   converted = CAST(round(CAST(amount AS DECIMAL(20,2)) * rate, 2) AS DECIMAL(18,2))   (half up; exact decimals)
--   rate      = silver.fx_rates (savings_currency -> :reporting_currency) of the ingestion month, else of the
--               latest earlier month with that rate; an amount already in the reporting currency needs no rate.
-- Both amounts are NULL (the recommendation is left out of sums) when one is negative, when the currency is
-- NULL or not a currency of silver.fx_rates, or when a needed rate is missing. No decimal is divided.
advisor_fx_currencies AS (
  SELECT DISTINCT currency FROM silver.fx_rates
),
advisor_fx AS (
  SELECT i.recommendation_id, f.month AS fx_month, f.rate
  FROM advisor_savings_input i
  JOIN silver.fx_rates f
    ON f.currency = i.savings_currency
    AND f.to_currency = :reporting_currency
    AND f.month <= trunc(CAST(i.ingested_at AS DATE), 'MM')
  QUALIFY row_number() OVER (PARTITION BY i.recommendation_id ORDER BY f.month DESC) = 1
),
advisor_savings_checked AS (
  SELECT
    i.recommendation_id,
    i.savings_amount,
    i.annual_savings_amount,
    i.savings_currency,
    i.savings_amount IS NOT NULL OR i.annual_savings_amount IS NOT NULL AS has_savings,
    coalesce(i.savings_amount < 0 OR i.annual_savings_amount < 0, false) AS is_negative,
    (i.savings_amount IS NOT NULL OR i.annual_savings_amount IS NOT NULL) AND c.currency IS NULL
      AS is_unknown_currency,
    (i.savings_amount IS NOT NULL OR i.annual_savings_amount IS NOT NULL) AND c.currency IS NOT NULL
      AND i.savings_currency <> :reporting_currency AND x.rate IS NULL AS is_no_fx_rate,
    CASE
      WHEN i.savings_amount IS NULL AND i.annual_savings_amount IS NULL THEN NULL
      WHEN c.currency IS NULL THEN NULL
      WHEN i.savings_currency = :reporting_currency THEN trunc(CAST(i.ingested_at AS DATE), 'MM')
      ELSE x.fx_month
    END AS fx_month,
    x.rate
  FROM advisor_savings_input i
  LEFT JOIN advisor_fx_currencies c ON c.currency = i.savings_currency
  LEFT JOIN advisor_fx x ON x.recommendation_id = i.recommendation_id
),
advisor_savings AS (
  SELECT
    recommendation_id,
    has_savings,
    is_negative,
    is_unknown_currency,
    is_no_fx_rate,
    has_savings AND (is_negative OR is_unknown_currency OR is_no_fx_rate) AS is_unconverted,
    fx_month,
    CASE
      WHEN is_negative OR is_unknown_currency OR is_no_fx_rate THEN NULL
      WHEN savings_currency = :reporting_currency THEN savings_amount
      ELSE CAST(round(CAST(savings_amount AS DECIMAL(20, 2)) * rate, 2) AS DECIMAL(18, 2))
    END AS monthly_savings_reporting,
    CASE
      WHEN is_negative OR is_unknown_currency OR is_no_fx_rate THEN NULL
      WHEN savings_currency = :reporting_currency THEN annual_savings_amount
      ELSE CAST(round(CAST(annual_savings_amount AS DECIMAL(20, 2)) * rate, 2) AS DECIMAL(18, 2))
    END AS annual_savings_reporting
  FROM advisor_savings_checked
)
