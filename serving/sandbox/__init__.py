"""Local stand-ins for the services Earshot delivers to: Slack, Discord and webhooks
(:class:`FakeMessaging`), an SMTP server (:class:`SmtpSink`) and S3 (a moto server).

They are real network servers on loopback, used by ``make demo`` and by the tests alike:
nothing is patched, the code under test speaks HTTP, SMTP and S3 to them.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

from serving.sandbox.clock import RecordingClock
from serving.sandbox.messaging import FakeMessaging, RecordedRequest
from serving.sandbox.s3 import moto_server
from serving.sandbox.smtp import ReceivedMail, SmtpSink

__all__ = [
    "FakeMessaging",
    "ReceivedMail",
    "RecordedRequest",
    "RecordingClock",
    "Sandbox",
    "SmtpSink",
    "moto_server",
]


class Sandbox:
    """FakeMessaging, SmtpSink and a moto S3 server, started together and stopped together::

        with Sandbox(record_dir=Path("demo/out")) as sandbox:
            sandbox.messaging.slack_hook_url("ops")
            sandbox.smtp.address          # (host, port)
            sandbox.s3_endpoint           # "http://127.0.0.1:<port>"

    What each fake accepted is written under ``record_dir`` (``slack_webhook.jsonl``, ...,
    ``mail/<n>.eml``). If one server fails to start, those already started are stopped before
    the error propagates; on exit all are stopped even if stopping one fails.
    """

    def __init__(
        self,
        record_dir: Path | None = None,
        *,
        s3: bool = True,
        smtp_username: str | None = None,
        smtp_password: str | None = None,
        smtp_security: str = "none",
    ) -> None:
        self.record_dir = Path(record_dir) if record_dir is not None else None
        self._with_s3 = s3
        self.messaging = FakeMessaging(self.record_dir)
        self.smtp = SmtpSink(
            self.record_dir,
            username=smtp_username,
            password=smtp_password,
            security=smtp_security,
        )
        self._s3_endpoint: str | None = None
        self._stack: ExitStack | None = None

    @property
    def smtp_address(self) -> tuple[str, int]:
        return self.smtp.address

    @property
    def s3_endpoint(self) -> str:
        if self._s3_endpoint is None:
            raise RuntimeError("the sandbox has no S3 server (not started, or s3=False)")
        return self._s3_endpoint

    def __enter__(self) -> Sandbox:
        with ExitStack() as stack:
            stack.enter_context(self.messaging)
            stack.enter_context(self.smtp)
            if self._with_s3:
                self._s3_endpoint = stack.enter_context(moto_server())
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        self._s3_endpoint = None
        if stack is not None:
            stack.close()
