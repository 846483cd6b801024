"""The HMAC pads the SQL uses, the environment that carries them, and the tenant key's life."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pytest

from warehouse import secrets as store
from warehouse.pseudonymisation import (
    IPAD_ENV,
    OPAD_ENV,
    dbt_environment,
    ensure_tenant_key,
    hmac_pads,
    retire_tenant_key,
    scoped_environ,
    tenant_key,
)


def _hmac_from_pads(ipad: bytes, opad: bytes, value: str) -> str:
    """What the SQL macro computes from the session's pads."""
    inner = hashlib.sha256(ipad + value.encode()).digest()
    return hashlib.sha256(opad + inner).hexdigest()


# ids name the lengths: random bytes as ids would differ between the parallel workers' collections
@pytest.mark.parametrize(
    "key",
    [b"k" * 16, os.urandom(32), os.urandom(64), os.urandom(100)],
    ids=["16-bytes", "32-random", "64-random-one-block", "100-random-hashed-first"],
)
def test_the_pads_give_rfc_2104_hmac(key: bytes):
    ipad, opad = hmac_pads(key)
    for value in ("10.0.0.1", "2001:0db8:0000:0001", "é@example.com"):
        expected = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
        assert _hmac_from_pads(ipad, opad, value) == expected


def test_the_environment_carries_the_pads_and_keeps_other_pg_options():
    key = os.urandom(32)
    env = dbt_environment(key, base={"PGOPTIONS": "-c statement_timeout=0"})
    ipad, opad = hmac_pads(key)
    assert env[IPAD_ENV] == ipad.hex() and env[OPAD_ENV] == opad.hex()
    assert env["PGOPTIONS"] == (
        "-c statement_timeout=0"
        f" -c earshot.hmac_ipad={ipad.hex()} -c earshot.hmac_opad={opad.hex()}"
    )
    # Nested runs replace the pads rather than piling them up.
    again = dbt_environment(b"x" * 16, base=env)
    assert again["PGOPTIONS"].count("earshot.hmac_ipad") == 1
    assert key.hex() not in " ".join(env.values())


def test_scoped_environ_restores_even_on_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PGOPTIONS", "-c a=b")
    monkeypatch.delenv(IPAD_ENV, raising=False)
    with pytest.raises(RuntimeError), scoped_environ({"PGOPTIONS": "x", IPAD_ENV: "00"}):
        assert os.environ[IPAD_ENV] == "00"
        raise RuntimeError
    assert os.environ["PGOPTIONS"] == "-c a=b" and IPAD_ENV not in os.environ


@pytest.fixture
def local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EARSHOT_HOME", str(tmp_path))
    monkeypatch.delenv("EARSHOT_DEPLOYMENT", raising=False)
    monkeypatch.delenv("EARSHOT_SECRETS_BACKEND", raising=False)
    store.clear_cache()
    return tmp_path


def test_a_local_key_is_made_once_and_destroyed_at_offboarding(local_store: Path):
    status = ensure_tenant_key("acme")
    path = local_store / "secrets" / "acme" / "pseudonym_key"
    assert status == f"pseudonymisation key: file {path}"
    key = tenant_key("acme")
    assert len(key) == 32 and key.hex() not in status
    ensure_tenant_key("acme")
    assert tenant_key("acme") == key
    assert retire_tenant_key("acme").startswith("pseudonymisation key: destroyed")
    assert not path.exists()
    assert tenant_key("acme") != key  # a new tenant of that name gets a new key


def test_an_env_key_is_never_invented(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "env")
    monkeypatch.delenv("EARSHOT_SECRET_PSEUDONYM_KEY__ACME", raising=False)
    status = ensure_tenant_key("acme")
    assert "MISSING, set environment variable EARSHOT_SECRET_PSEUDONYM_KEY__ACME" in status
    with pytest.raises(store.SecretNotFound):
        tenant_key("acme")
    monkeypatch.setenv("EARSHOT_SECRET_PSEUDONYM_KEY__ACME", "hex:" + "ab" * 32)
    assert ensure_tenant_key("acme").endswith("EARSHOT_SECRET_PSEUDONYM_KEY__ACME")
    assert retire_tenant_key("acme") == (
        "pseudonymisation key: delete environment variable EARSHOT_SECRET_PSEUDONYM_KEY__ACME "
        "yourself"
    )
