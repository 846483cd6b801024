"""A tenant's configured channels (serving/settings.py) as senders (serving/delivery/).

Credentials are read from the secrets backend when the channel is built, per run, so a rotated
token is used at once. A channel whose credential cannot be read still becomes a sender: one
that fails every delivery with the reason (never the value), so the message is recorded as
undelivered and sent again once the secret is there, instead of vanishing with a log line.
"""

from __future__ import annotations

from collections.abc import Mapping

from serving import delivery
from serving.delivery.message import Message
from serving.delivery.retry import DeliveryError, Receipt, RetryPolicy
from serving.outbox import Sender
from serving.settings import (
    Channel,
    DiscordChannel,
    EmailChannel,
    SlackApiChannel,
    SlackWebhookChannel,
    WebhookChannel,
)
from warehouse.secrets import InvalidSecret, SecretNotFound, SecretStoreError, tenant_credential


class UnusableChannel:
    """A channel that cannot send (its credential is missing): every delivery fails, recorded."""

    def __init__(self, name: str, kind: str, reason: str) -> None:
        self.name, self.kind, self.reason = name, kind, reason

    def send(self, message: Message) -> Receipt:
        raise DeliveryError(
            self.name, f"cannot send: {self.reason}", permanent=False, attempts=0, kind=self.kind
        )


def _policy(settings: Channel) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.max_attempts,
        backoff_s=settings.retry_backoff_s,
        max_delay_s=settings.max_retry_delay_s,
    )


def build_sender(tenant_id: str, name: str, settings: Channel) -> Sender:
    """The sender of one configured channel of ``tenant_id``."""
    try:
        return _build(tenant_id, name, settings)
    except (SecretNotFound, SecretStoreError, InvalidSecret) as exc:
        return UnusableChannel(name, settings.type, str(exc))
    except ValueError as exc:
        # The channel refused what the secret holds (not an http(s) URL, say); its message
        # names the channel, never the value.
        return UnusableChannel(name, settings.type, str(exc))


def _build(tenant_id: str, name: str, settings: Channel) -> Sender:
    policy = _policy(settings)
    if isinstance(settings, SlackWebhookChannel):
        return delivery.SlackWebhook(
            name, tenant_credential(tenant_id, settings.secret), policy=policy
        )
    if isinstance(settings, SlackApiChannel):
        return delivery.SlackApi(
            name,
            tenant_credential(tenant_id, settings.secret),
            settings.channel,
            base_url=settings.base_url,
            policy=policy,
        )
    if isinstance(settings, DiscordChannel):
        return delivery.DiscordWebhook(
            name, tenant_credential(tenant_id, settings.secret), policy=policy
        )
    if isinstance(settings, EmailChannel):
        password = tenant_credential(tenant_id, settings.secret) if settings.secret else None
        return delivery.EmailChannel(
            name,
            settings.host,
            settings.port,
            settings.security,
            settings.sender,
            list(settings.recipients),
            username=settings.username,
            password=password,
            policy=policy,
        )
    if isinstance(settings, WebhookChannel):
        auth_secret = (
            tenant_credential(tenant_id, settings.auth_secret) if settings.auth_secret else None
        )
        return delivery.WebhookChannel(
            name,
            tenant_credential(tenant_id, settings.secret),
            auth=settings.auth,
            username=settings.username,
            secret=auth_secret,
            header_name=settings.header_name,
            flavor=settings.flavor,
            policy=policy,
        )
    raise TypeError(f"channel {name!r}: unknown type {type(settings).__name__}")


def build_senders(
    tenant_id: str, channels: Mapping[str, Channel], names: list[str] | None = None
) -> dict[str, Sender]:
    """Senders of the named channels (all when ``names`` is None), in the order given."""
    chosen = list(channels) if names is None else names
    return {name: build_sender(tenant_id, name, channels[name]) for name in chosen}
