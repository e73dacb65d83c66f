-- silver.azure_resources: the Azure resources of the latest inventory snapshot of each subscription, linked to
-- their PPM project. Databricks SQL. Parameter: :subscriptions (comma-separated subscription ids, the current
-- partitions; '' = none, giving an empty table).
-- Latest snapshot of a subscription = max(ingested_at) of its 'snapshot' marker rows in bronze.azure_resources;
-- its rows are those with that ingested_at. Older snapshots are ignored.
-- resource_id = lower(ARM id) (the key: one row per resource_id; duplicates in a snapshot keep the row with the
-- smallest id as sent, then raw_json, and get the flag 'duplicate_in_snapshot').
-- Tag `ppm-project`: tag name compared case-insensitively, value trimmed, blank = no tag.
-- project_code = resource tag, else its resource group's tag (same snapshot); project_link says which.
-- project_page_id = the live silver.projects page whose project_code equals project_code exactly.
-- Flags: unknown_project, ambiguous_project, duplicate_in_snapshot. Details: docs/data-dictionary.md (Azure).
WITH
-- include: silver/fragments/azure_inventory.sql
,
resources AS (
  SELECT
    lower(resource_id) AS resource_id,
    resource_id AS resource_id_as_sent,
    subscription_id,
    resource_group,
    name,
    resource_type,
    location,
    tags,
    project_tag AS resource_project_tag,
    ingested_at,
    count(*) OVER (PARTITION BY lower(resource_id)) AS copies
  FROM azure_inventory_rows
  WHERE record_kind = 'resource' AND resource_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY lower(resource_id) ORDER BY resource_id, raw_json) = 1
),
linked AS (
  SELECT
    r.*,
    g.project_tag AS resource_group_project_tag,
    coalesce(r.resource_project_tag, g.project_tag) AS project_code,
    CASE
      WHEN r.resource_project_tag IS NOT NULL THEN 'resource'
      WHEN g.project_tag IS NOT NULL THEN 'resource_group'
    END AS project_link
  FROM resources r
  LEFT JOIN azure_resource_groups g
    ON g.subscription_id = r.subscription_id AND g.resource_group = r.resource_group
)
SELECT
  l.resource_id,
  l.resource_id_as_sent,
  l.subscription_id,
  l.resource_group,
  l.name,
  l.resource_type,
  l.location,
  l.tags,
  l.resource_project_tag,
  l.resource_group_project_tag,
  l.project_code,
  l.project_link,
  p.page_id AS project_page_id,
  l.ingested_at,
  filter(
    array(
      CASE WHEN l.project_code IS NOT NULL AND p.page_id IS NULL THEN 'unknown_project' END,
      CASE WHEN p.projects > 1 THEN 'ambiguous_project' END,
      CASE WHEN l.copies > 1 THEN 'duplicate_in_snapshot' END
    ),
    flag -> flag IS NOT NULL
  ) AS dq_flags
FROM linked l
LEFT JOIN azure_project_codes p ON p.project_code = l.project_code
ORDER BY l.resource_id
