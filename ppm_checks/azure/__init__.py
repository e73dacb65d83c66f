"""Checks of the Azure area (docs/data-dictionary.md, Azure): keys (blocking), accepted categories and impacts,
valid savings, the share of Cost recommendations linked to a project, and orphan `ppm-project` tags."""

from ppm_checks.azure.rules import azure_checks

__all__ = ["azure_checks"]
