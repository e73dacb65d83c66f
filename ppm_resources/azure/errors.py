"""What can go wrong talking to Azure, in words an on-call engineer can act on."""

from __future__ import annotations


class AzureError(RuntimeError):
    """An Azure request failed; the message names the subscription, what was asked and what to do."""


class AzureAuthenticationError(AzureError):
    """No token: wrong tenant, client id or secret (the AADSTS code from Microsoft Entra ID is kept)."""


class AzureAccessDeniedError(AzureError):
    """The principal cannot read a subscription (403 AuthorizationFailed, or not visible to Resource Graph)."""

    def __init__(self, subscription_id: str, detail: str) -> None:
        self.subscription_id = subscription_id
        super().__init__(
            f"subscription {subscription_id}: the service principal cannot read it ({detail}). Grant it the "
            f"Reader role on /subscriptions/{subscription_id} (Advisor needs "
            "Microsoft.Advisor/recommendations/read, which Reader includes), or remove the subscription from "
            "AZURE_SUBSCRIPTION_IDS; the other subscriptions are not affected."
        )


class AzureQuotaError(AzureError):
    """Resource Graph kept answering 429 after every wait the retry budget allows."""
