"""What a channel delivers: one channel-neutral message, rendered by each channel its own way."""

from __future__ import annotations

from dataclasses import dataclass

EVENTS = ("alert", "report", "ops")
SEVERITIES = ("critical", "high", "medium", "low", "info")
ELLIPSIS = "…"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (only email carries attachments; chat channels show the
    message's ``link`` instead)."""

    filename: str
    content_type: str
    data: bytes

    def __post_init__(self) -> None:
        if "/" not in self.content_type:
            raise ValueError(
                f"attachment {self.filename!r}: content type {self.content_type!r} is not "
                "of the form type/subtype"
            )


@dataclass(frozen=True)
class Message:
    """One notification: an alert, a report's arrival, or an operational notice.

    ``text`` is plain text (a few lines): channels escape it, so a tenant's text can neither
    format nor mention (``@everyone``, ``<!channel>``). ``key`` is a stable id of the message
    (the outbox's idempotency key): webhooks receive it and email carries it as a header, so a
    receiver can drop a delivery it has already seen after a retry.
    """

    title: str
    text: str
    event: str = "alert"
    severity: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    link: str | None = None
    attachments: tuple[Attachment, ...] = ()
    key: str = ""
    tenant_id: str | None = None

    def __post_init__(self) -> None:
        if self.event not in EVENTS:
            raise ValueError(f"message {self.key!r}: event {self.event!r} is not one of {EVENTS}")
        if self.severity is not None and self.severity not in SEVERITIES:
            raise ValueError(
                f"message {self.key!r}: severity {self.severity!r} is not one of {SEVERITIES}"
            )


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis when cut (chat
    services reject a message over their limit instead of shortening it)."""
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)] + ELLIPSIS
