"""`CodeLocation`: the whole code location's definitions, for the assets that report on all of them.

The control room lists every job, asset, schedule and sensor. A run does not carry them all (an in-process run
of one job holds only that job), and importing `ppm_assets.definitions` from an asset would be an import cycle.
So the location is named, as `workspace.yaml` names it, and loaded when the run needs it; a test points the
resource at its own definitions.
"""

from __future__ import annotations

import importlib

import dagster as dg
from pydantic import Field


class CodeLocation(dg.ConfigurableResource):
    """Loads `<module>:<attribute>` (a `dg.Definitions`) on demand."""

    module: str = Field(default="ppm_assets.definitions", description="Module holding the Definitions.")
    attribute: str = Field(default="defs", description="Name of the Definitions object in that module.")

    def definitions(self) -> dg.Definitions:
        value = getattr(importlib.import_module(self.module), self.attribute, None)
        if not isinstance(value, dg.Definitions):
            raise TypeError(f"{self.module}:{self.attribute} is not a dagster Definitions object")
        return value

    def repository(self) -> dg.RepositoryDefinition:
        return self.definitions().get_repository_def()
