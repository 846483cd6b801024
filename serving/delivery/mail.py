"""Email over SMTP: a plain-text part, a simple HTML part, and attachments (a PDF report).

Security is ``starttls`` (port 587: plain connection upgraded before AUTH), ``tls`` (port 465:
TLS from the first byte) or ``none`` (a local relay only). SMTP says itself whether a failure is
final: 4xx replies (greylisting, a full queue, ``451 try again``) and dropped connections are
retried; 5xx replies (``550 mailbox unavailable``, ``535 authentication failed``, ``554``
refused) are permanent.
"""

from __future__ import annotations

import html
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from serving.delivery.channel import Channel, Clock
from serving.delivery.message import Message
from serving.delivery.retry import Outcome, Receipt, RetryPolicy, Sleep

SECURITY_MODES = ("starttls", "tls", "none")
KEY_HEADER = "X-Earshot-Key"


def render_plain(message: Message) -> str:
    lines = [message.text, ""] if message.text else []
    width = max((len(label) for label, _ in message.fields), default=0)
    lines.extend(f"{label.ljust(width)}  {value}" for label, value in message.fields)
    if message.fields:
        lines.append("")
    if message.link:
        lines.extend([message.link, ""])
    if message.severity:
        lines.append(f"Severity: {message.severity}")
    return "\n".join(lines).rstrip() + "\n"


def render_html(message: Message) -> str:
    """A deliberately plain HTML part: mail clients strip styles and scripts anyway."""
    esc = html.escape
    parts = [f"<h2>{esc(message.title)}</h2>"]
    for paragraph in message.text.split("\n\n"):
        if paragraph.strip():
            parts.append("<p>" + "<br>".join(esc(line) for line in paragraph.split("\n")) + "</p>")
    if message.fields:
        rows = "".join(
            f'<tr><th align="left" style="padding-right:1em">{esc(label)}</th>'
            f"<td>{esc(value)}</td></tr>"
            for label, value in message.fields
        )
        parts.append(f"<table>{rows}</table>")
    if message.link:
        label = "Open the report" if message.event == "report" else "Open"
        parts.append(f'<p><a href="{esc(message.link, quote=True)}">{label}</a></p>')
    if message.severity:
        parts.append(f"<p><small>Severity: {esc(message.severity)}</small></p>")
    return "<html><body>" + "".join(parts) + "</body></html>\n"


def build_email(message: Message, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """The MIME message: multipart/alternative (text, HTML) inside multipart/mixed when there
    are attachments."""
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2].strip("> ") or None
    mail["Message-ID"] = make_msgid(domain=domain)
    if message.key:
        mail[KEY_HEADER] = message.key
    mail.set_content(render_plain(message))
    mail.add_alternative(render_html(message), subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mail.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return mail


class EmailChannel(Channel):
    """Send through an SMTP server (a relay, SES/SendGrid/Mailgun SMTP, or the sandbox sink).

    ``ssl_context`` defaults to the system's trust store; pass one that trusts a private CA
    (the sandbox sink's certificate) to test TLS locally.
    """

    kind = "email"

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        security: str,
        sender: str,
        recipients: tuple[str, ...] | list[str],
        *,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        min_interval_s: float | None = None,
    ) -> None:
        where = f"{self.kind} channel {name!r}"
        if security not in SECURITY_MODES:
            raise ValueError(f"{where}: security {security!r} is not one of {SECURITY_MODES}")
        if not host or not port:
            raise ValueError(f"{where}: host and port are required")
        if not sender or "@" not in sender:
            raise ValueError(f"{where}: sender {sender!r} is not an email address")
        recipients = tuple(recipients)
        if not recipients:
            raise ValueError(f"{where}: at least one recipient is required")
        if (username is None) != (password is None):
            raise ValueError(f"{where}: username and password go together")
        super().__init__(
            name,
            target=f"smtp://{host}:{port} ({security})",
            secrets=(password,) if password else (),
            policy=policy,
            sleep=sleep,
            clock=clock,
            min_interval_s=min_interval_s,
        )
        self.host = host
        self.port = int(port)
        self.security = security
        self.sender = sender
        self.recipients = recipients
        self._username = username
        self._password = password
        self._timeout_s = timeout_s
        self._ssl_context = ssl_context

    def send(self, message: Message) -> Receipt:
        mail = build_email(message, self.sender, self.recipients)
        return self._deliver(lambda: self._attempt(mail))

    def _attempt(self, mail: EmailMessage) -> Outcome:
        try:
            refused = self._transmit(mail)
        except smtplib.SMTPRecipientsRefused as error:
            return _refused_outcome(error.recipients)
        except smtplib.SMTPResponseException as error:
            # SMTPAuthenticationError, SMTPSenderRefused, SMTPDataError, SMTPHeloError, ...
            return _reply_outcome(type(error).__name__, error.smtp_code, error.smtp_error)
        except smtplib.SMTPNotSupportedError as error:
            return Outcome.permanent_failure(f"server does not support it: {error}")
        except ssl.SSLCertVerificationError as error:
            return Outcome.permanent_failure(
                f"the server's TLS certificate is not trusted: {error.verify_message}"
            )
        except (smtplib.SMTPException, OSError) as error:
            # Disconnected, refused, reset, timed out: the server may be back in a moment.
            return Outcome.transient_failure(f"connection failed: {type(error).__name__}: {error}")
        accepted = [r for r in self.recipients if r not in refused]
        detail = f"accepted for {', '.join(accepted)}"
        if refused:
            detail += "; refused " + ", ".join(
                f"{r} ({code})" for r, (code, _) in sorted(refused.items())
            )
        return Outcome.ok(detail)

    def _transmit(self, mail: EmailMessage) -> dict[str, tuple[int, bytes]]:
        context = self._ssl_context or ssl.create_default_context()
        server: smtplib.SMTP
        if self.security == "tls":
            server = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self._timeout_s, context=context
            )
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self._timeout_s)
        with server:
            server.ehlo()
            if self.security == "starttls":
                server.starttls(context=context)
                server.ehlo()
            if self._username is not None and self._password is not None:
                server.login(self._username, self._password)
            return server.send_message(mail, from_addr=self.sender, to_addrs=list(self.recipients))


def _reply_outcome(what: str, code: int, text: bytes | str) -> Outcome:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    reason = f"{what}: SMTP {code} {' '.join(str(text).split())}"
    if 400 <= code < 500:
        return Outcome.transient_failure(reason, code)
    return Outcome.permanent_failure(reason, code)


def _refused_outcome(recipients: dict[str, tuple[int, bytes]]) -> Outcome:
    """Every recipient refused: permanent if any refusal is a 5xx, else worth another try."""
    codes = [code for code, _ in recipients.values()]
    listed = ", ".join(
        f"{address} ({code} {reply.decode('utf-8', errors='replace')})"
        for address, (code, reply) in sorted(recipients.items())
    )
    reason = f"every recipient refused: {listed}"
    worst = max(codes, default=550)
    if all(400 <= code < 500 for code in codes):
        return Outcome.transient_failure(reason, worst)
    return Outcome.permanent_failure(reason, worst)
