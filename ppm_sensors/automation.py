"""Declarative automation: the sensor that evaluates every asset's `automation_condition`."""

import dagster as dg

automation_sensor = dg.AutomationConditionSensorDefinition(
    name="automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates the automation conditions of all assets (silver Notion tables: eager).",
)
