"""The whole sandbox: three servers up together, down together, even when one fails."""

from __future__ import annotations

import json
import smtplib
import socket
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest

import serving.sandbox as sandbox_module
from serving.delivery import Message, SlackWebhook
from serving.sandbox import RecordingClock, Sandbox


def listening(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def test_sandbox_serves_messaging_smtp_and_s3(tmp_path: Path) -> None:
    with Sandbox(record_dir=tmp_path) as sandbox:
        clock = RecordingClock()
        url = sandbox.messaging.slack_hook_url("ops")
        SlackWebhook("ops", url, sleep=clock.sleep, clock=clock).send(
            Message(title="Sandbox up", text="hello")
        )
        with smtplib.SMTP(*sandbox.smtp_address, timeout=5) as client:
            client.sendmail("a@earshot.test", ["b@acme.test"], b"Subject: hi\r\n\r\nbody\r\n")
        s3 = boto3.client(
            "s3",
            endpoint_url=sandbox.s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id="sandbox",
            aws_secret_access_key="sandbox",
        )
        s3.create_bucket(Bucket="reports")
        s3.put_object(Bucket="reports", Key="acme/report.pdf", Body=b"%PDF")
        body = s3.get_object(Bucket="reports", Key="acme/report.pdf")["Body"].read()
        addresses = [
            urlsplit(sandbox.messaging.base_url).netloc.split(":"),
            sandbox.smtp_address,
            urlsplit(sandbox.s3_endpoint).netloc.split(":"),
        ]

    assert body == b"%PDF"
    (line,) = (tmp_path / "slack_webhook.jsonl").read_text().splitlines()
    assert json.loads(line)["body"]["blocks"][0]["text"]["text"] == "Sandbox up"
    assert (tmp_path / "mail" / "1.eml").read_bytes().startswith(b"Subject: hi")
    assert not any(listening(host, int(port)) for host, port in addresses)


def test_a_server_failing_to_start_stops_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    @contextmanager
    def broken_moto():
        raise RuntimeError("moto server did not answer")
        yield "never"

    monkeypatch.setattr(sandbox_module, "moto_server", broken_moto)
    sandbox = Sandbox()

    with pytest.raises(RuntimeError, match="moto server did not answer"):
        sandbox.__enter__()

    with pytest.raises(RuntimeError, match="not running"):
        _ = sandbox.messaging.base_url
    with pytest.raises(RuntimeError, match="not running"):
        _ = sandbox.smtp.port


def test_without_s3_there_is_no_endpoint() -> None:
    with Sandbox(s3=False) as sandbox:
        assert sandbox.smtp.port > 0
        with pytest.raises(RuntimeError, match="no S3 server"):
            _ = sandbox.s3_endpoint
