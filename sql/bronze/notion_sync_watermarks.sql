-- bronze.notion_sync_watermarks: the sync state of each Notion database, derived from bronze.notion_raw_pages.
-- watermark is what the next incremental sync starts from (minus a 2-minute overlap): the newest bound up to
-- which every page of the database had been written when a row was committed.
SELECT
  database_name,
  max(database_id) AS database_id,
  max(complete_before) AS watermark,
  max(last_edited_time) AS max_last_edited_time,
  count(*) AS bronze_rows,
  count(DISTINCT page_id) AS pages_seen,
  count(DISTINCT CASE WHEN deleted THEN page_id END) AS pages_deleted,
  max(synced_at) AS last_synced_at,
  max_by(sync_run_id, synced_at) AS last_sync_run_id
FROM bronze.notion_raw_pages
GROUP BY database_name
ORDER BY database_name
