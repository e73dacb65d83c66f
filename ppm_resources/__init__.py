"""Clients and engines: settings, the lakehouse, source clients; `build_resources` wires them per environment."""

from ppm_resources.resources import build_resources
from ppm_resources.settings import Settings, SettingsError, load_settings, prepare_process

__all__ = ["Settings", "SettingsError", "build_resources", "load_settings", "prepare_process"]
