"""What can go wrong in a sync, as exceptions whose messages name the source and the reason.

No message ever contains a credential: URLs are redacted (``http.redact_url``) before they are
put into one.
"""

from __future__ import annotations


class ConnectorError(RuntimeError):
    """A sync cannot go on; the message says which source, which request and why."""


class SettingsError(ValueError):
    """A tenant's connector settings are invalid; the message names the file and the field."""


class CredentialsError(ConnectorError):
    """The source refused the credentials (401/403, invalid_token): fix them, do not retry."""


class ApiChangedError(ConnectorError):
    """The source answered in a shape the connector does not know: a field it needs is gone or
    has another type in a whole page, or a page is not the JSON it should be."""


class QuotaExhaustedError(ConnectorError):
    """The source's quota for the period is spent (YouTube's daily quota): retry later.

    The sync stops at a checkpoint, so the next run goes on from where this one stopped."""


class RecordError(ValueError):
    """One source record cannot become a canonical row; it goes to quarantine with this reason."""
