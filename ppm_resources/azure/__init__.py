"""Azure clients: Resource Graph (inventory) and Advisor (recommendations) through the Azure SDKs.

The SDK packages are imported inside the functions that use them, so loading the definitions does not pay for
them (azure-identity alone takes ~0.7 s to import).
"""

from ppm_resources.azure.errors import (
    AzureAccessDeniedError,
    AzureAuthenticationError,
    AzureError,
    AzureQuotaError,
)

__all__ = ["AzureAccessDeniedError", "AzureAuthenticationError", "AzureError", "AzureQuotaError"]
