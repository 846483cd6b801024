"""The per-tenant secret store: env, local and aws backends (aws against a real moto server)."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.moto_server import moto_server
from warehouse import secrets as store
from warehouse.secrets import (
    InsecureSecretFile,
    InvalidSecret,
    SecretNotFound,
    SecretStoreError,
    describe_secret_source,
    put_tenant_secret,
    tenant_secret,
)
from warehouse.settings import InvalidTenantId

ROOT = Path(__file__).resolve().parents[2]
KEY = b"k3y-material-that-is-long-enough-0123456789"
# Distinctive values: none of them may ever appear in a message.
SHORT = "sh0rt-v@lue"
DUMMY_SECRET_KEY = "dummy-secret-access-key-0123456789"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("EARSHOT_SECRET", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("EARSHOT_HOME", str(tmp_path / "home"))
    # Production's default backend is `env`; the local default is tested on its own below.
    monkeypatch.setenv("EARSHOT_DEPLOYMENT", "production")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    store.clear_cache()
    yield
    store.clear_cache()


# -- naming and validation ---------------------------------------------------------------------


def test_naming(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert (
        store.env_variable("acme_audio", "pseudonym_key")
        == "EARSHOT_SECRET_PSEUDONYM_KEY__ACME_AUDIO"
    )
    assert store.aws_secret_id("acme_audio", "pseudonym_key") == "earshot/acme_audio/pseudonym_key"
    monkeypatch.setenv("EARSHOT_SECRETS_PREFIX", "/prod/earshot/")
    assert (
        store.aws_secret_id("acme_audio", "pseudonym_key")
        == "prod/earshot/acme_audio/pseudonym_key"
    )
    assert store.local_secret_path("acme_audio", "pseudonym_key") == (
        tmp_path / "home" / "secrets" / "acme_audio" / "pseudonym_key"
    )


def test_describe_secret_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert describe_secret_source("acme_audio", "pseudonym_key") == (
        "environment variable EARSHOT_SECRET_PSEUDONYM_KEY__ACME_AUDIO"
    )
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "aws")
    assert describe_secret_source("acme_audio", "pseudonym_key") == (
        "AWS Secrets Manager secret 'earshot/acme_audio/pseudonym_key'"
    )
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "LOCAL")
    expected = tmp_path / "home" / "secrets" / "acme_audio" / "pseudonym_key"
    assert describe_secret_source("acme_audio", "pseudonym_key") == f"file {expected}"
    assert not expected.exists()  # describing does not create anything


@pytest.mark.parametrize("tenant", ["Acme", "a", "../etc", "acme-audio", "", "1acme"])
def test_invalid_tenant_ids_are_refused(tenant: str) -> None:
    with pytest.raises(InvalidTenantId):
        tenant_secret(tenant, "pseudonym_key")
    with pytest.raises(InvalidTenantId):
        describe_secret_source(tenant, "pseudonym_key")


@pytest.mark.parametrize("name", ["Key", "k", "../key", "pseudonym-key", "", "_key", "x" * 64])
def test_invalid_secret_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid secret name"):
        tenant_secret("acme_audio", name)
    with pytest.raises(ValueError, match="invalid secret name"):
        put_tenant_secret("acme_audio", name, KEY)


def test_unknown_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "vault")
    with pytest.raises(ValueError, match="EARSHOT_SECRETS_BACKEND"):
        tenant_secret("acme_audio", "pseudonym_key")


# -- env backend -------------------------------------------------------------------------------


def test_local_deployments_default_to_local_secret_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EARSHOT_DEPLOYMENT")
    assert store.secrets_backend() == "local"
    monkeypatch.setenv("EARSHOT_DEPLOYMENT", "local")
    assert store.secrets_backend() == "local"
    monkeypatch.setenv("EARSHOT_DEPLOYMENT", "production")
    assert store.secrets_backend() == "env"


def test_env_is_the_production_default_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARSHOT_SECRET_PSEUDONYM_KEY__ACME_AUDIO", "plain text secret value é")
    assert tenant_secret("acme_audio", "pseudonym_key") == "plain text secret value é".encode()
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "env")
    assert tenant_secret("acme_audio", "pseudonym_key") == "plain text secret value é".encode()


def test_env_hex_and_base64_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARSHOT_SECRET_PSEUDONYM_KEY__ACME_AUDIO", "hex:" + KEY.hex())
    assert tenant_secret("acme_audio", "pseudonym_key") == KEY
    binary = bytes(range(256))[::7]
    monkeypatch.setenv(
        "EARSHOT_SECRET_PSEUDONYM_KEY__ACME_AUDIO", "base64:" + base64.b64encode(binary).decode()
    )
    assert tenant_secret("acme_audio", "pseudonym_key") == binary
    # Other tenants and names are other variables.
    with pytest.raises(SecretNotFound):
        tenant_secret("beta_radio", "pseudonym_key")
    with pytest.raises(SecretNotFound):
        tenant_secret("acme_audio", "other_key")


def test_env_missing_names_tenant_secret_and_variable() -> None:
    with pytest.raises(SecretNotFound) as caught:
        tenant_secret("acme_audio", "pseudonym_key")
    message = str(caught.value)
    assert isinstance(caught.value, LookupError)
    assert "acme_audio" in message
    assert "pseudonym_key" in message
    assert "EARSHOT_SECRET_PSEUDONYM_KEY__ACME_AUDIO" in message


@pytest.mark.parametrize(
    "value",
    [SHORT, "hex:" + SHORT.encode().hex(), "base64:" + base64.b64encode(SHORT.encode()).decode()],
)
def test_env_too_short_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("EARSHOT_SECRET_PSEUDONYM_KEY__ACME_AUDIO", value)
    with pytest.raises(InvalidSecret, match="at least 16") as caught:
        tenant_secret("acme_audio", "pseudonym_key")
    assert_secret_not_in(caught.value, value, SHORT)


@pytest.mark.parametrize("value", ["hex:not-hex-" + "z" * 30, "base64:***" + "%" * 30])
def test_env_badly_encoded_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("EARSHOT_SECRET_PSEUDONYM_KEY__ACME_AUDIO", value)
    with pytest.raises(InvalidSecret, match="not valid") as caught:
        tenant_secret("acme_audio", "pseudonym_key")
    assert_secret_not_in(caught.value, value, value.split(":", 1)[1])


def test_env_secrets_cannot_be_put() -> None:
    with pytest.raises(SecretStoreError, match="EARSHOT_SECRET_PSEUDONYM_KEY__ACME_AUDIO") as c:
        put_tenant_secret("acme_audio", "pseudonym_key", KEY)
    assert_secret_not_in(c.value, KEY.decode())


def assert_secret_not_in(exc: BaseException, *values: str) -> None:
    """Neither the message nor any chained exception's message shows a value."""
    while exc is not None:
        for value in values:
            assert value not in str(exc), f"secret value leaked into: {exc}"
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]


# -- local backend -----------------------------------------------------------------------------


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "local")
    return tmp_path / "home" / "secrets"


def test_local_secret_is_generated_once_and_private(local: Path) -> None:
    first = tenant_secret("acme_audio", "pseudonym_key")
    assert len(first) == 32
    assert tenant_secret("acme_audio", "pseudonym_key") == first
    assert tenant_secret("beta_radio", "pseudonym_key") != first
    path = local / "acme_audio" / "pseudonym_key"
    assert path.read_bytes() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(local.stat().st_mode) == 0o700
    # No temporary files left behind.
    assert sorted(p.name for p in path.parent.iterdir()) == ["pseudonym_key"]


def test_local_refuses_a_file_others_can_read(local: Path) -> None:
    tenant_secret("acme_audio", "pseudonym_key")
    path = local / "acme_audio" / "pseudonym_key"
    for mode in (0o644, 0o640, 0o604, 0o620):
        os.chmod(path, mode)
        with pytest.raises(InsecureSecretFile, match="chmod 600") as caught:
            tenant_secret("acme_audio", "pseudonym_key")
        assert isinstance(caught.value, PermissionError)
        assert str(path) in str(caught.value)
    os.chmod(path, 0o400)
    assert len(tenant_secret("acme_audio", "pseudonym_key")) == 32


def test_local_refuses_a_symlink(local: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(KEY)
    os.chmod(elsewhere, 0o600)
    folder = local / "acme_audio"
    folder.mkdir(parents=True)
    (folder / "pseudonym_key").symlink_to(elsewhere)
    with pytest.raises(InsecureSecretFile):
        tenant_secret("acme_audio", "pseudonym_key")


def test_local_too_short_file_is_refused(local: Path) -> None:
    folder = local / "acme_audio"
    folder.mkdir(parents=True)
    path = folder / "pseudonym_key"
    path.write_bytes(SHORT.encode())
    os.chmod(path, 0o600)
    with pytest.raises(InvalidSecret, match="at least 16") as caught:
        tenant_secret("acme_audio", "pseudonym_key")
    assert_secret_not_in(caught.value, SHORT)
    assert path.read_bytes() == SHORT.encode()  # never silently replaced


def test_local_put_creates_and_replaces(local: Path) -> None:
    where = put_tenant_secret("acme_audio", "pseudonym_key", KEY)
    path = local / "acme_audio" / "pseudonym_key"
    assert where == f"file {path}"
    assert tenant_secret("acme_audio", "pseudonym_key") == KEY
    put_tenant_secret("acme_audio", "pseudonym_key", KEY[::-1])
    assert tenant_secret("acme_audio", "pseudonym_key") == KEY[::-1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(InvalidSecret) as caught:
        put_tenant_secret("acme_audio", "pseudonym_key", SHORT.encode())
    assert_secret_not_in(caught.value, SHORT)
    assert tenant_secret("acme_audio", "pseudonym_key") == KEY[::-1]
    assert sorted(p.name for p in path.parent.iterdir()) == ["pseudonym_key"]


def test_local_racing_threads_agree_on_one_key(local: Path) -> None:
    start = threading.Barrier(8)
    results: list[bytes] = []

    def read() -> None:
        start.wait()
        results.append(tenant_secret("acme_audio", "pseudonym_key"))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert (local / "acme_audio" / "pseudonym_key").read_bytes() == results[0]


def test_local_racing_processes_agree_on_one_key(local: Path) -> None:
    code = (
        "import sys, time\n"
        "from warehouse.secrets import tenant_secret\n"
        "time.sleep(max(0.0, float(sys.argv[1]) - time.time()))\n"
        "print(tenant_secret('acme_audio', 'pseudonym_key').hex())\n"
    )
    import time

    at = str(time.time() + 1.0)  # start together, once every interpreter is up
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, at],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(out.strip())
    assert len(set(outputs)) == 1
    assert (local / "acme_audio" / "pseudonym_key").read_bytes().hex() == outputs[0]


# -- aws backend -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The aws backend pointed at the moto server, each test under its own secret prefix."""
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "aws")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("EARSHOT_SECRETS_PREFIX", f"test-{uuid.uuid4().hex[:8]}")
    return boto3.client("secretsmanager", endpoint_url=endpoint)


def secret_id(tenant: str, name: str = "pseudonym_key") -> str:
    return f"{os.environ['EARSHOT_SECRETS_PREFIX']}/{tenant}/{name}"


def test_aws_secret_string_and_binary(aws: Any) -> None:
    aws.create_secret(Name=secret_id("acme_audio"), SecretString="a plain string secret!")
    aws.create_secret(Name=secret_id("beta_radio"), SecretString="hex:" + KEY.hex())
    aws.create_secret(Name=secret_id("gamma_pod"), SecretBinary=KEY[::-1])
    assert tenant_secret("acme_audio", "pseudonym_key") == b"a plain string secret!"
    assert tenant_secret("beta_radio", "pseudonym_key") == KEY
    assert tenant_secret("gamma_pod", "pseudonym_key") == KEY[::-1]


def test_aws_missing_names_the_secret_id(aws: Any) -> None:
    with pytest.raises(SecretNotFound) as caught:
        tenant_secret("acme_audio", "pseudonym_key")
    assert secret_id("acme_audio") in str(caught.value)


def test_aws_too_short_is_refused_without_showing_it(aws: Any) -> None:
    aws.create_secret(Name=secret_id("acme_audio"), SecretString=SHORT)
    with pytest.raises(InvalidSecret, match="at least 16") as caught:
        tenant_secret("acme_audio", "pseudonym_key")
    assert secret_id("acme_audio") in str(caught.value)
    assert_secret_not_in(caught.value, SHORT)


def test_aws_values_are_cached_per_process(aws: Any) -> None:
    aws.create_secret(Name=secret_id("acme_audio"), SecretString="first value, long enough")
    assert tenant_secret("acme_audio", "pseudonym_key") == b"first value, long enough"
    # Changed behind the process's back: the cached value is still used (one call per run) ...
    aws.put_secret_value(SecretId=secret_id("acme_audio"), SecretString="second value, long too")
    assert tenant_secret("acme_audio", "pseudonym_key") == b"first value, long enough"
    # ... until the cache is cleared.
    store.clear_cache()
    assert tenant_secret("acme_audio", "pseudonym_key") == b"second value, long too"


def test_aws_failures_are_not_cached(aws: Any) -> None:
    with pytest.raises(SecretNotFound):
        tenant_secret("acme_audio", "pseudonym_key")
    aws.create_secret(Name=secret_id("acme_audio"), SecretString="created after the miss")
    assert tenant_secret("acme_audio", "pseudonym_key") == b"created after the miss"


def test_aws_put_creates_then_updates(aws: Any, endpoint: str) -> None:
    where = put_tenant_secret("acme_audio", "pseudonym_key", KEY)
    assert where == f"AWS Secrets Manager secret {secret_id('acme_audio')!r} at {endpoint}"
    assert tenant_secret("acme_audio", "pseudonym_key") == KEY
    stored = aws.get_secret_value(SecretId=secret_id("acme_audio"))["SecretString"]
    assert stored == "base64:" + base64.b64encode(KEY).decode()
    # Updating replaces the value and the cache does not hide the new one.
    put_tenant_secret("acme_audio", "pseudonym_key", KEY[::-1])
    assert tenant_secret("acme_audio", "pseudonym_key") == KEY[::-1]


def test_aws_unreachable_is_a_store_error(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(SecretStoreError, match=secret_id("acme_audio")) as caught:
        tenant_secret("acme_audio", "pseudonym_key")
    assert_secret_not_in(caught.value, DUMMY_SECRET_KEY)
