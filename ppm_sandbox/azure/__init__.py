"""Azure emulator: identity platform (client credentials), Resource Graph and Advisor over HTTPS."""

from ppm_sandbox.azure.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_OBJECT_ID,
    DEFAULT_SUBSCRIPTION_IDS,
    DEFAULT_TENANT_ID,
    AzureConfig,
)
from ppm_sandbox.azure.store import AzureStore

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_OBJECT_ID",
    "DEFAULT_SUBSCRIPTION_IDS",
    "DEFAULT_TENANT_ID",
    "AzureConfig",
    "AzureStore",
]
