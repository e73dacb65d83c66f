"""Dagster asset definitions for the Finance PPM lakehouse, by layer; `definitions.py` assembles `defs`."""
