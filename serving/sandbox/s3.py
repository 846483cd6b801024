"""A throw-away moto server (S3, Secrets Manager, ...) in its own process: the sandbox's S3.

Tests and ``make demo`` talk to it over HTTP with the real boto3 client, as production talks to
AWS: nothing is patched in-process. Usage::

    with moto_server() as endpoint:      # "http://127.0.0.1:<port>"
        boto3.client("s3", endpoint_url=endpoint, ...)

or from the shell: ``python -m serving.sandbox.s3`` (prints the endpoint, runs until ^C).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
# Another process can take the free port between our probe and the server's bind: retry then.
START_ATTEMPTS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _command(port: int) -> list[str]:
    """``moto_server`` from this interpreter's environment, else ``python -m moto.server``."""
    beside = Path(sys.executable).parent / "moto_server"
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    base = [found] if found else [sys.executable, "-m", "moto.server"]
    return [*base, "-H", HOST, "-p", str(port)]


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_until_answering(proc: subprocess.Popen[bytes], endpoint: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(endpoint):
        if proc.poll() is not None:
            raise RuntimeError(
                f"moto server exited with {proc.returncode}:\n{log.read_text(errors='replace')}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"moto server did not answer at {endpoint} within {START_TIMEOUT_S:.0f} s:\n"
                + log.read_text(errors="replace")
            )
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def moto_server() -> Iterator[str]:
    """Run a moto server on a free loopback port; yields its endpoint URL, stops it afterwards."""
    with tempfile.TemporaryDirectory(prefix="moto-server-") as tmp:
        log = Path(tmp) / "server.log"
        for attempt in range(1, START_ATTEMPTS + 1):
            port = _free_port()
            endpoint = f"http://{HOST}:{port}"
            with open(log, "wb") as out:
                # Output goes to a file: a pipe nobody reads would block the server when full.
                proc = subprocess.Popen(
                    _command(port), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                )
            try:
                _wait_until_answering(proc, endpoint, log)
            except RuntimeError:
                _stop(proc)
                if attempt == START_ATTEMPTS:
                    raise
                continue
            try:
                yield endpoint
            finally:
                _stop(proc)
            return


def reset(endpoint: str) -> None:
    """Forget every bucket, secret and object the server holds (between independent tests)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


if __name__ == "__main__":
    with moto_server() as url:
        print(url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
