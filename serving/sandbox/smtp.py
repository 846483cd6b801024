"""An SMTP sink: a real SMTP server (aiosmtpd) on a free loopback port that keeps what it gets.

Each message is parsed into an ``email.message.EmailMessage`` and kept in ``sink.messages``
(with the envelope's sender and recipients, and the login it authenticated as); with
``record_dir`` it is also written to ``<record_dir>/mail/<n>.eml`` (open it in a mail client).

Options that make it behave like a real relay:

* ``username``/``password``: AUTH PLAIN and LOGIN, and MAIL refused (530) without them;
* ``security="starttls"`` (STARTTLS required before anything else, as on port 587) or
  ``"tls"`` (TLS from the first byte, as on 465), with a self-signed certificate for
  ``localhost``/``127.0.0.1`` made on start; ``client_ssl_context()`` trusts it;
* ``reject_next(times, code)``: refuse the next messages (451 by default, at DATA or RCPT) to
  test retries.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import logging
import ssl
import tempfile
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from serving.sandbox.lifecycle import LocalService

SECURITY_MODES = ("none", "starttls", "tls")
REJECT_TEXT = {4: "4.3.0 Sandbox: temporarily unable to accept, try again later"}
REJECT_TEXT_PERMANENT = "5.7.1 Sandbox: message refused"


class _DropLoginDataDeprecation(logging.Filter):
    """aiosmtpd 1.4 sets its own deprecated ``Session.login_data`` on every AUTH and logs a
    warning about it; the sink reads ``auth_data`` and the warning is noise in the demo."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_DropLoginDataDeprecation())


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    authenticated_as: str | None


@dataclass
class _Rejection:
    remaining: int
    code: int
    stage: str
    text: str


class _Handler:
    """aiosmtpd hooks: authentication, injected refusals, storing messages."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self._sink.username is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self._sink._take_rejection("rcpt")
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self._sink._take_rejection("data")
        if refusal is not None:
            return refusal
        credentials = session.auth_data
        login = credentials.login.decode() if isinstance(credentials, LoginPassword) else None
        self._sink._store(
            envelope.mail_from or "",
            tuple(envelope.rcpt_tos),
            bytes(envelope.original_content or b""),
            login,
        )
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """A Controller that may listen on port 0: the port the OS picked is read back before the
    controller connects to its own server to check it is up."""

    def _trigger_server(self) -> None:
        if self.server is not None and self.port == 0:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink(LocalService):
    """The sink; a context manager (``with SmtpSink() as sink: ...``)."""

    def __init__(
        self,
        record_dir: Path | None = None,
        *,
        host: str = "127.0.0.1",
        username: str | None = None,
        password: str | None = None,
        security: str = "none",
    ) -> None:
        if security not in SECURITY_MODES:
            raise ValueError(f"security {security!r} is not one of {SECURITY_MODES}")
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        self.record_dir = Path(record_dir) if record_dir is not None else None
        self.host = host
        self.username = username
        self.password = password
        self.security = security
        self._lock = threading.Lock()
        self._messages: list[ReceivedMail] = []
        self._rejections: list[_Rejection] = []
        self._controller: _Controller | None = None
        self._cert_dir: tempfile.TemporaryDirectory[str] | None = None
        self._cert_pem: bytes | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SmtpSink:
        if self._controller is not None:
            raise RuntimeError("SmtpSink is already running")
        kwargs: dict[str, Any] = {
            "hostname": self.host,
            "port": 0,
            "server_hostname": "sandbox.localhost",
            "authenticator": self._authenticate,
            # AUTH over a plain connection only when the sink itself is plain: with STARTTLS it
            # is offered after the upgrade, as a real relay does.
            "auth_require_tls": self.security == "starttls",
        }
        if self.security != "none":
            context = self._server_ssl_context()
            if self.security == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs["ssl_context"] = context
        controller = _Controller(_Handler(self), **kwargs)
        try:
            controller.start()
        except BaseException:
            self._cleanup_certificate()
            raise
        self._controller = controller
        if self.record_dir is not None:
            (self.record_dir / "mail").mkdir(parents=True, exist_ok=True)
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        self._cleanup_certificate()

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("SmtpSink is not running")
        return int(self._controller.port)

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    # -- control and inspection ------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def reject_next(
        self, times: int = 1, code: int = 451, stage: str = "data", text: str | None = None
    ) -> None:
        """Refuse the next ``times`` messages with ``code`` at ``stage`` (``data``: after the
        message was sent; ``rcpt``: each recipient)."""
        if stage not in ("data", "rcpt"):
            raise ValueError(f"stage {stage!r} is not 'data' or 'rcpt'")
        if not 400 <= code < 600:
            raise ValueError(f"code {code} is not an SMTP 4xx or 5xx reply")
        reply = text or (REJECT_TEXT[4] if code < 500 else REJECT_TEXT_PERMANENT)
        with self._lock:
            self._rejections.append(_Rejection(times, code, stage, reply))

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._rejections.clear()

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts (only) the sink's certificate, hostname checks on."""
        if self._cert_pem is None:
            raise RuntimeError("the sink has no certificate (security='none' or not started)")
        return ssl.create_default_context(cadata=self._cert_pem.decode("ascii"))

    # -- called from the server thread -----------------------------------------------------

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        if self.username is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login.decode() == self.username and (
            auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def _take_rejection(self, stage: str) -> str | None:
        with self._lock:
            for rejection in self._rejections:
                if rejection.stage == stage and rejection.remaining > 0:
                    rejection.remaining -= 1
                    return f"{rejection.code} {rejection.text}"
        return None

    def _store(
        self, mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes, login: str | None
    ) -> None:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._messages.append(ReceivedMail(mail_from, rcpt_tos, message, raw, login))
            number = len(self._messages)
            if self.record_dir is not None:
                (self.record_dir / "mail" / f"{number}.eml").write_bytes(raw)

    # -- TLS -------------------------------------------------------------------------------

    def _server_ssl_context(self) -> ssl.SSLContext:
        cert_pem, key_pem = _self_signed_certificate(self.host)
        self._cert_pem = cert_pem
        self._cert_dir = tempfile.TemporaryDirectory(prefix="smtp-sink-")
        cert_file = Path(self._cert_dir.name) / "cert.pem"
        key_file = Path(self._cert_dir.name) / "key.pem"
        cert_file.write_bytes(cert_pem)
        key_file.write_bytes(key_pem)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        return context

    def _cleanup_certificate(self) -> None:
        if self._cert_dir is not None:
            self._cert_dir.cleanup()
            self._cert_dir = None


def _self_signed_certificate(host: str) -> tuple[bytes, bytes]:
    """A one-day certificate (PEM) and its key for ``localhost`` and ``host``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Earshot sandbox SMTP")])
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    if host != "127.0.0.1":
        names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert_pem, key_pem
