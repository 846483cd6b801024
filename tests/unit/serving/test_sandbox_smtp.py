"""The SMTP sink, spoken to with smtplib."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest

from serving.sandbox import SmtpSink


def message(subject: str = "hello") -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = subject, "a@earshot.test", "b@acme.test"
    mail.set_content("body\n")
    return mail


def test_stores_and_records_messages(tmp_path: Path) -> None:
    with SmtpSink(record_dir=tmp_path) as sink, smtplib.SMTP(*sink.address, timeout=5) as client:
        client.send_message(message("one"))
        client.send_message(message("two"))
        mails = sink.messages

    assert [m.message["Subject"] for m in mails] == ["one", "two"]
    assert mails[0].mail_from == "a@earshot.test" and mails[0].rcpt_tos == ("b@acme.test",)
    assert mails[0].authenticated_as is None
    recorded = sorted(p.name for p in (tmp_path / "mail").iterdir())
    assert recorded == ["1.eml", "2.eml"]
    assert (tmp_path / "mail" / "2.eml").read_bytes() == mails[1].raw
    assert b"Subject: two" in mails[1].raw


def test_auth_is_required_when_configured() -> None:
    with SmtpSink(username="u", password="p") as sink:
        with smtplib.SMTP(*sink.address, timeout=5) as client:
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.send_message(message())
            assert refused.value.smtp_code == 530
        with smtplib.SMTP(*sink.address, timeout=5) as client:
            with pytest.raises(smtplib.SMTPAuthenticationError):
                client.login("u", "wrong")
            client.login("u", "p")
            client.send_message(message())
        assert [m.authenticated_as for m in sink.messages] == ["u"]


def test_reject_next_refuses_then_accepts() -> None:
    with SmtpSink() as sink, smtplib.SMTP(*sink.address, timeout=5) as client:
        sink.reject_next(times=1, code=451)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.send_message(message())
        assert refused.value.smtp_code == 451
        client.send_message(message())
        assert len(sink.messages) == 1


def test_starttls_with_the_sinks_certificate() -> None:
    with SmtpSink(security="starttls") as sink, smtplib.SMTP(*sink.address, timeout=5) as client:
        client.starttls(context=sink.client_ssl_context())
        client.send_message(message())
        assert len(sink.messages) == 1


def test_no_certificate_without_tls() -> None:
    with SmtpSink() as sink, pytest.raises(RuntimeError, match="no certificate"):
        sink.client_ssl_context()


def test_the_port_is_free_again_after_stop() -> None:
    with SmtpSink() as sink:
        address = sink.address
    with pytest.raises(OSError):
        smtplib.SMTP(*address, timeout=2)
