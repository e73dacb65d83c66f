"""Checks of the write-back ledger (docs/data-dictionary.md, Write-back): one page per Source ID, ever."""

from ppm_checks.writeback.rules import writeback_checks

__all__ = ["writeback_checks"]
