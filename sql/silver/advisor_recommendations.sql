-- silver.advisor_recommendations: the Azure Advisor recommendations of the latest Advisor snapshot of each
-- subscription, with their savings in the reporting currency and their PPM project. Databricks SQL.
-- Parameters: :subscriptions (comma-separated subscription ids, the current partitions; '' = none, giving an
-- empty table), :reporting_currency (e.g. 'USD').
-- Latest snapshot of a subscription = max(ingested_at) of its 'snapshot' marker rows in bronze.azure_advisor;
-- its rows are those with that ingested_at. The inventory (bronze.azure_resources) is read by the same rule.
-- recommendation_id = lower(ARM id) (the key; duplicates keep the smallest id as sent, then raw_json).
-- resource_id = lower(resourceMetadata.resourceId), else the recommendation id cut before
-- '/providers/microsoft.advisor/recommendations/' (compared lowercased).
-- savings_amount = TRY_CAST(trim(extendedProperties['savingsAmount']) AS DECIMAL(18,2)) (monthly; half up to
-- cents); annual_savings_amount = the same of 'annualSavingsAmount', as sent (NULL when absent, never derived).
-- Converted (silver/fragments/advisor_savings.sql): rate of the ingestion month, else of the latest earlier
-- month with a rate; CAST(round(CAST(amount AS DECIMAL(20,2)) * rate, 2) AS DECIMAL(18,2)); NULL when negative,
-- currency unknown or no rate.
-- Project: the resource's project in silver.azure_resources when the resource is there; else, for a resource
-- or a resource group whose resource group is in the inventory snapshot, that group's `ppm-project` tag.
-- Details and flags: docs/data-dictionary.md (Azure).
WITH
advisor_snapshots AS (
  SELECT lower(subscription_id) AS subscription_id, max(ingested_at) AS ingested_at
  FROM bronze.azure_advisor
  WHERE record_kind = 'snapshot'
    AND array_contains(split(lower(replace(:subscriptions, ' ', '')), ','), lower(subscription_id))
  GROUP BY lower(subscription_id)
),
advisor_rows AS (
  SELECT
    lower(a.recommendation_id) AS recommendation_id,
    a.recommendation_name,
    s.subscription_id,
    a.category,
    a.impact,
    a.impacted_field,
    a.impacted_value,
    lower(coalesce(
      nullif(trim(a.resource_id), ''),
      CASE
        WHEN instr(lower(a.recommendation_id), '/providers/microsoft.advisor/recommendations/') > 1
          THEN substring(
            a.recommendation_id, 1,
            instr(lower(a.recommendation_id), '/providers/microsoft.advisor/recommendations/') - 1
          )
      END
    )) AS resource_id,
    a.problem,
    a.solution,
    TRY_CAST(a.last_updated AS TIMESTAMP) AS last_updated,
    nullif(trim(a.extended_properties['savingsAmount']), '') AS savings_text,
    nullif(trim(a.extended_properties['annualSavingsAmount']), '') AS annual_savings_text,
    upper(nullif(trim(a.extended_properties['savingsCurrency']), '')) AS savings_currency,
    a.ingested_at,
    count(*) OVER (PARTITION BY lower(a.recommendation_id)) AS copies
  FROM bronze.azure_advisor a
  JOIN advisor_snapshots s
    ON s.subscription_id = lower(a.subscription_id) AND s.ingested_at = a.ingested_at
  WHERE a.record_kind = 'recommendation' AND a.recommendation_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY lower(a.recommendation_id) ORDER BY a.recommendation_id, a.raw_json) = 1
),
advisor_typed AS (
  SELECT
    *,
    TRY_CAST(savings_text AS DECIMAL(18, 2)) AS savings_amount,
    TRY_CAST(annual_savings_text AS DECIMAL(18, 2)) AS annual_savings_amount,
    split(resource_id, '/') AS resource_parts
  FROM advisor_rows
),
advisor_savings_input AS (
  SELECT recommendation_id, savings_amount, annual_savings_amount, savings_currency, ingested_at
  FROM advisor_typed
),
-- include: silver/fragments/advisor_savings.sql
,
-- include: silver/fragments/azure_inventory.sql
,
targets AS (
  -- '/subscriptions/<sub>/resourcegroups/<rg>/...' split on '/': '', 'subscriptions', <sub>, 'resourcegroups', <rg>
  SELECT
    t.*,
    CASE
      WHEN try_element_at(t.resource_parts, 2) = 'subscriptions'
        AND try_element_at(t.resource_parts, 4) = 'resourcegroups'
        THEN try_element_at(t.resource_parts, 5)
    END AS target_resource_group,
    coalesce(
      size(t.resource_parts) = 3 AND try_element_at(t.resource_parts, 1) = ''
        AND try_element_at(t.resource_parts, 2) = 'subscriptions',
      false
    ) AS is_subscription_target,
    coalesce(
      size(t.resource_parts) = 5 AND try_element_at(t.resource_parts, 1) = ''
        AND try_element_at(t.resource_parts, 2) = 'subscriptions'
        AND try_element_at(t.resource_parts, 4) = 'resourcegroups',
      false
    ) AS is_resource_group_target
  FROM advisor_typed t
),
linked AS (
  SELECT
    t.*,
    r.resource_id IS NOT NULL AS in_inventory,
    g.resource_group IS NOT NULL AS resource_group_in_inventory,
    CASE WHEN r.resource_id IS NOT NULL THEN r.project_code ELSE g.project_tag END AS project_code,
    CASE
      WHEN r.resource_id IS NOT NULL THEN r.project_link
      WHEN g.project_tag IS NOT NULL THEN 'resource_group'
    END AS project_link
  FROM targets t
  LEFT JOIN silver.azure_resources r ON r.resource_id = t.resource_id
  LEFT JOIN azure_resource_groups g
    ON g.subscription_id = try_element_at(t.resource_parts, 3) AND g.resource_group = t.target_resource_group
)
SELECT
  l.recommendation_id,
  l.recommendation_name,
  l.subscription_id,
  l.category,
  l.impact,
  l.impacted_field,
  l.impacted_value,
  l.resource_id,
  l.problem,
  l.solution,
  l.last_updated,
  l.savings_amount,
  l.annual_savings_amount,
  l.savings_currency,
  :reporting_currency AS reporting_currency,
  v.fx_month,
  v.monthly_savings_reporting,
  v.annual_savings_reporting,
  l.project_code,
  p.page_id AS project_page_id,
  l.project_link,
  l.ingested_at,
  filter(
    array(
      CASE
        WHEN l.category IS NULL
          OR l.category NOT IN ('Cost', 'Security', 'HighAvailability', 'Performance', 'OperationalExcellence')
          THEN 'unknown_category'
      END,
      CASE WHEN l.impact IS NULL OR l.impact NOT IN ('High', 'Medium', 'Low') THEN 'unknown_impact' END,
      CASE WHEN l.category = 'Cost' AND l.savings_amount IS NULL THEN 'missing_savings' END,
      CASE
        WHEN (l.savings_text IS NOT NULL AND l.savings_amount IS NULL)
          OR (l.annual_savings_text IS NOT NULL AND l.annual_savings_amount IS NULL)
          THEN 'unparseable_savings'
      END,
      CASE WHEN v.is_negative THEN 'negative_savings' END,
      CASE WHEN v.is_unknown_currency THEN 'unknown_currency' END,
      CASE WHEN v.is_no_fx_rate THEN 'no_fx_rate' END,
      CASE
        WHEN NOT l.in_inventory AND NOT l.is_subscription_target
          AND NOT (l.is_resource_group_target AND l.resource_group_in_inventory)
          THEN 'resource_not_in_inventory'
      END,
      CASE WHEN l.project_code IS NOT NULL AND p.page_id IS NULL THEN 'unknown_project' END,
      CASE WHEN p.projects > 1 THEN 'ambiguous_project' END,
      CASE WHEN l.copies > 1 THEN 'duplicate_in_snapshot' END
    ),
    flag -> flag IS NOT NULL
  ) AS dq_flags
FROM linked l
JOIN advisor_savings v ON v.recommendation_id = l.recommendation_id
LEFT JOIN azure_project_codes p ON p.project_code = l.project_code
ORDER BY l.recommendation_id
