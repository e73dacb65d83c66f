"""Dagster asset definitions for the Finance PPM lakehouse, one folder per area; `definitions.py` assembles `defs`."""

import warnings

import dagster as dg

# BackfillPolicy and pools are marked beta/preview by Dagster; we rely on them on purpose (single-run
# backfills under one rate limiter), so the warning on every import is noise for users.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
