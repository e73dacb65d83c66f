"""Notion API emulator: workspace generator, store, query engine and HTTP routes."""

from ppm_sandbox.notion.generator import Defect
from ppm_sandbox.notion.store import NotionStore, PageView
from ppm_sandbox.notion.workspace import DEFAULT_TOKEN, NotionConfig

__all__ = ["DEFAULT_TOKEN", "Defect", "NotionConfig", "NotionStore", "PageView"]
