"""Email over SMTP against the sandbox's SMTP sink (aiosmtpd on a loopback port)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from serving.delivery import Attachment, DeliveryError, EmailChannel, Message, RetryPolicy
from serving.delivery.mail import KEY_HEADER
from serving.sandbox import RecordingClock, SmtpSink

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" + bytes(range(256)) + b"\n%%EOF\n"
REPORT = Message(
    title="Weekly report: Acme (2026-W09)",
    text="Attributed revenue $12,400 (+8%).\nSee the attached PDF.",
    event="report",
    fields=(("Week", "2026-W09"), ("Revenue", "$12,400")),
    link="https://s3.example/reports/acme/2026-W09.pdf",
    attachments=(Attachment("acme-2026-W09.pdf", "application/pdf", PDF),),
    key="report-acme-2026-W09",
    tenant_id="acme",
)
USER, PASSWORD = "reports@earshot.test", "pa55-w0rd-sandbox"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(username=USER, password=PASSWORD) as server:
        yield server


def mailer(sink: SmtpSink, clock: RecordingClock, **kwargs) -> EmailChannel:
    settings = {
        "security": "none",
        "username": USER,
        "password": PASSWORD,
        "recipients": ("ana@acme.test", "bo@acme.test"),
    }
    settings.update(kwargs)
    return EmailChannel(
        "acme-mail",
        sink.host,
        sink.port,
        sender="Earshot <reports@earshot.test>",
        sleep=clock.sleep,
        clock=clock,
        **settings,
    )


def test_report_with_pdf_arrives_intact_after_auth(sink, clock) -> None:
    receipt = mailer(sink, clock).send(REPORT)

    assert (receipt.attempts, receipt.detail) == (1, "accepted for ana@acme.test, bo@acme.test")
    (mail,) = sink.messages
    assert mail.authenticated_as == USER
    assert mail.mail_from == "reports@earshot.test"
    assert mail.rcpt_tos == ("ana@acme.test", "bo@acme.test")
    message = mail.message
    assert message["Subject"] == "Weekly report: Acme (2026-W09)"
    assert message["To"] == "ana@acme.test, bo@acme.test"
    assert message[KEY_HEADER] == "report-acme-2026-W09"
    assert message.get_content_type() == "multipart/mixed"
    plain = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # SMTP's CRLF
    assert plain.startswith("Attributed revenue $12,400 (+8%).\nSee the attached PDF.\n")
    assert "Week     2026-W09" in plain and REPORT.link in plain
    html = message.get_body(("html",)).get_content()
    assert "<h2>Weekly report: Acme (2026-W09)</h2>" in html
    assert f'<a href="{REPORT.link}">Open the report</a>' in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "acme-2026-W09.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def test_html_part_escapes_the_tenants_text(sink, clock) -> None:
    mailer(sink, clock).send(Message(title="<b>x</b>", text="<script>alert(1)</script>"))
    html = sink.messages[0].message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_451_is_retried_and_then_delivered(sink, clock) -> None:
    sink.reject_next(times=1, code=451)

    receipt = mailer(sink, clock, policy=RetryPolicy(backoff_s=2)).send(REPORT)

    assert receipt.attempts == 2
    assert clock.sleeps == [2.0]
    assert len(sink.messages) == 1


def test_a_550_is_permanent(sink, clock) -> None:
    sink.reject_next(times=1, code=550)

    with pytest.raises(DeliveryError) as caught:
        mailer(sink, clock).send(REPORT)

    error = caught.value
    assert (error.permanent, error.attempts, error.status) == (True, 1, 550)
    assert "SMTP 550" in str(error) and "email channel 'acme-mail'" in str(error)
    assert sink.messages == [] and clock.sleeps == []


def test_all_recipients_refused_temporarily_is_retried(sink, clock) -> None:
    sink.reject_next(times=2, code=450, stage="rcpt")

    receipt = mailer(sink, clock).send(REPORT)

    assert receipt.attempts == 2 and clock.sleeps == [1.0]
    assert sink.messages[0].rcpt_tos == ("ana@acme.test", "bo@acme.test")


def test_one_recipient_refused_for_good_is_reported_in_the_receipt(sink, clock) -> None:
    sink.reject_next(times=1, code=550, stage="rcpt")

    receipt = mailer(sink, clock).send(REPORT)

    assert receipt.attempts == 1
    assert receipt.detail == "accepted for bo@acme.test; refused ana@acme.test (550)"
    assert sink.messages[0].rcpt_tos == ("bo@acme.test",)


def test_a_wrong_password_is_permanent_and_never_shown(sink, clock) -> None:
    with pytest.raises(DeliveryError) as caught:
        mailer(sink, clock, password="not-the-password").send(REPORT)

    error = caught.value
    assert (error.permanent, error.attempts, error.status) == (True, 1, 535)
    assert "not-the-password" not in str(error) and "SMTPAuthenticationError" in str(error)
    assert sink.messages == []


def test_sending_without_auth_to_a_sink_requiring_it_is_refused(sink, clock) -> None:
    with pytest.raises(DeliveryError) as caught:
        mailer(sink, clock, username=None, password=None).send(REPORT)
    assert (caught.value.permanent, caught.value.status) == (True, 530)


def test_a_refused_connection_is_retried_with_backoff(clock) -> None:
    with SmtpSink() as gone:
        host, port = gone.address
    channel = EmailChannel(
        "acme-mail",
        host,
        port,
        "none",
        "reports@earshot.test",
        ["ana@acme.test"],
        policy=RetryPolicy(max_attempts=3),
        sleep=clock.sleep,
        clock=clock,
    )

    with pytest.raises(DeliveryError) as caught:
        channel.send(REPORT)

    assert (caught.value.permanent, caught.value.attempts) == (False, 3)
    assert "connection failed" in str(caught.value)
    assert clock.sleeps == [1.0, 2.0]


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_modes_with_the_sinks_certificate(security: str, clock) -> None:
    with SmtpSink(username=USER, password=PASSWORD, security=security) as sink:
        channel = mailer(sink, clock, security=security, ssl_context=sink.client_ssl_context())
        receipt = channel.send(REPORT)
        (mail,) = sink.messages

    assert receipt.attempts == 1
    assert mail.authenticated_as == USER
    assert next(mail.message.iter_attachments()).get_content() == PDF


def test_an_untrusted_certificate_is_permanent(clock) -> None:
    with SmtpSink(security="starttls") as sink:
        channel = mailer(sink, clock, security="starttls", username=None, password=None)
        with pytest.raises(DeliveryError) as caught:
            channel.send(REPORT)  # the system trust store does not know the sink's certificate
    assert caught.value.permanent and "not trusted" in str(caught.value)
    assert sink.messages == []


def test_starttls_sink_refuses_a_plain_client(clock) -> None:
    with SmtpSink(security="starttls") as sink:
        channel = mailer(sink, clock, security="none", username=None, password=None)
        with pytest.raises(DeliveryError) as caught:
            channel.send(REPORT)
    assert caught.value.permanent and "SMTP 530" in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"security": "ssl"}, "security 'ssl' is not one of"),
        ({"recipients": ()}, "at least one recipient"),
        ({"password": None}, "username and password go together"),
    ],
)
def test_configuration_mistakes_are_refused(kwargs: dict, message: str) -> None:
    settings = {
        "security": "starttls",
        "recipients": ("a@b.test",),
        "username": "u",
        "password": "p",
    }
    settings.update(kwargs)
    with pytest.raises(ValueError, match=message):
        EmailChannel("acme-mail", "smtp.example", 587, sender="r@earshot.test", **settings)
