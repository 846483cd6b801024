"""Delivery channels for reports, exports and alerts: Slack, Discord, email, webhooks.

Every channel has ``name``, ``kind`` and ``send(message) -> Receipt``, retries what is worth
retrying through one shared loop (:mod:`serving.delivery.retry`), paces itself below the
service's rate limit, and raises :class:`DeliveryError` (never showing a secret) otherwise.
"""

from serving.delivery.channel import Channel
from serving.delivery.discord import DiscordWebhook
from serving.delivery.mail import EmailChannel
from serving.delivery.message import Attachment, Message
from serving.delivery.retry import DeliveryError, Receipt, RetryPolicy
from serving.delivery.slack import SlackApi, SlackWebhook
from serving.delivery.webhook import WebhookChannel

__all__ = [
    "Attachment",
    "Channel",
    "DeliveryError",
    "DiscordWebhook",
    "EmailChannel",
    "Message",
    "Receipt",
    "RetryPolicy",
    "SlackApi",
    "SlackWebhook",
    "WebhookChannel",
]
