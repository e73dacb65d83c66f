"""Run tags the product sets and reads in more than one place."""

#: A run that only fetched and validated (Notion dry run): it wrote nothing, so it says nothing about an asset's
#: health; the control room and `ppm status` look past it to the asset's last real run.
DRY_RUN_TAG = "ppm/dry_run"
