-- Fragment included by sql/silver/azure_resources.sql and sql/silver/advisor_recommendations.sql
-- (`-- include: silver/fragments/azure_inventory.sql`): common table expressions, without WITH and without a
-- trailing comma. Parameter: :subscriptions (comma-separated subscription ids; '' = none).
-- azure_resource_snapshots: per subscription of :subscriptions, the latest inventory snapshot = max(ingested_at)
--   of its 'snapshot' marker rows (a subscription with no marker row has no snapshot).
-- azure_inventory_rows: the 'resource' and 'resource_group' rows of those snapshots (same ingested_at), with the
--   lowercased resource group and the `ppm-project` tag (tag name compared lowercased; value trimmed; blank
--   values ignored; if several names differ only by case, the smallest trimmed value).
-- azure_resource_groups: one row per (subscription, lowercased resource group) of those snapshots.
-- azure_project_codes: live silver.projects by exact project_code (the smallest page_id when several share one).
azure_resource_snapshots AS (
  SELECT lower(subscription_id) AS subscription_id, max(ingested_at) AS ingested_at
  FROM bronze.azure_resources
  WHERE record_kind = 'snapshot'
    AND array_contains(split(lower(replace(:subscriptions, ' ', '')), ','), lower(subscription_id))
  GROUP BY lower(subscription_id)
),
azure_inventory_rows AS (
  SELECT
    b.record_kind,
    b.resource_id,
    s.subscription_id,
    lower(coalesce(
      nullif(trim(b.resource_group), ''),
      CASE
        WHEN try_element_at(split(lower(b.resource_id), '/'), 4) = 'resourcegroups'
          THEN try_element_at(split(lower(b.resource_id), '/'), 5)
      END,
      CASE WHEN b.record_kind = 'resource_group' THEN nullif(trim(b.name), '') END
    )) AS resource_group,
    b.name,
    b.resource_type,
    b.location,
    b.tags,
    array_min(transform(
      filter(map_entries(b.tags), tag -> lower(tag.key) = 'ppm-project' AND trim(tag.value) <> ''),
      tag -> trim(tag.value)
    )) AS project_tag,
    b.raw_json,
    b.ingested_at
  FROM bronze.azure_resources b
  JOIN azure_resource_snapshots s
    ON s.subscription_id = lower(b.subscription_id) AND s.ingested_at = b.ingested_at
  WHERE b.record_kind IN ('resource', 'resource_group')
),
azure_resource_groups AS (
  SELECT subscription_id, resource_group, project_tag
  FROM azure_inventory_rows
  WHERE record_kind = 'resource_group' AND resource_group IS NOT NULL
  QUALIFY row_number() OVER (
    PARTITION BY subscription_id, resource_group ORDER BY resource_id, raw_json, project_tag
  ) = 1
),
azure_project_codes AS (
  SELECT project_code, min(page_id) AS page_id, count(*) AS projects
  FROM silver.projects
  WHERE NOT coalesce(is_archived, false) AND project_code IS NOT NULL
  GROUP BY project_code
)
