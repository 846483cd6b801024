"""Keyed pseudonymisation of IP networks and e-mail addresses: HMAC-SHA256 with a tenant's key.

Staging replaces every address with ``hex(HMAC-SHA256(key, value))`` (macro ``pseudonymise``), so
the same network gets the same key within a tenant and unrelated keys across tenants, and nobody
without the tenant's key can test guesses (the IPv4 space is small enough to enumerate a plain
hash).

The key never appears in SQL text, dbt artefacts or logs. dbt's SQL reads the two HMAC pads
(``key XOR ipad``, ``key XOR opad``, RFC 2104) from the *session*:

* DuckDB: variables ``earshot_hmac_ipad`` / ``earshot_hmac_opad``, set on every connection and
  cursor by the dbt-duckdb plugin ``warehouse.dbt_duckdb_pseudonym`` from the environment
  variables below.
* PostgreSQL: settings ``earshot.hmac_ipad`` / ``earshot.hmac_opad`` (hex), given to each session
  through libpq's ``PGOPTIONS``.

The pipeline sets those variables in the environment of one tenant's dbt process only
(:func:`dbt_environment`, :func:`scoped_environ`); ``dbt_env`` values never enter dbt's vars,
``env_var()`` calls or the run config, which dbt and Dagster do record.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from warehouse.settings import validate_tenant_id

SECRET_NAME = "pseudonym_key"
IPAD_ENV = "EARSHOT_HMAC_IPAD_HEX"
OPAD_ENV = "EARSHOT_HMAC_OPAD_HEX"
_BLOCK = 64  # SHA-256's block size in bytes
_OUR_OPTIONS = re.compile(r"-c\s*earshot\.hmac_[a-z]+=\S*")


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer padded keys of HMAC-SHA256 (RFC 2104) for ``key``."""
    if not key:
        raise ValueError("an HMAC key cannot be empty")
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def pseudonymise(key: bytes, value: str) -> str:
    """What the SQL macro computes, in Python: lower-case hex HMAC-SHA256 of UTF-8 ``value``."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def tenant_key(tenant_id: str) -> bytes:
    """The tenant's pseudonymisation key from the configured secret store."""
    from warehouse.secrets import tenant_secret

    return tenant_secret(validate_tenant_id(tenant_id), SECRET_NAME)


def dbt_environment(key: bytes, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables that give a dbt process's sessions the HMAC pads of ``key``.

    ``base`` (default ``os.environ``) is consulted only to keep an operator's own
    ``PGOPTIONS``; the result holds just the variables to add or replace.
    """
    base = os.environ if base is None else base
    ipad, opad = hmac_pads(key)
    kept = _OUR_OPTIONS.sub("", base.get("PGOPTIONS", "")).split()
    options = [*kept, f"-c earshot.hmac_ipad={ipad.hex()}", f"-c earshot.hmac_opad={opad.hex()}"]
    return {IPAD_ENV: ipad.hex(), OPAD_ENV: opad.hex(), "PGOPTIONS": " ".join(options)}


@contextmanager
def scoped_environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the block (subprocesses started in it inherit them)
    and restore the previous environment afterwards, also on error."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def ensure_tenant_key(tenant_id: str) -> str:
    """Make sure the tenant has a key (creating one where the store allows); say where it is.

    ``local`` and ``aws`` stores get 32 random bytes when the tenant has none; with ``env`` the
    operator sets the variable, so a missing one is reported, not invented. Never the value.
    """
    from warehouse import secrets as store

    where = store.describe_secret_source(tenant_id, SECRET_NAME)
    try:
        store.tenant_secret(tenant_id, SECRET_NAME)  # the local store creates it on first use
        return f"pseudonymisation key: {where}"
    except store.SecretNotFound:
        if store.secrets_backend() == "env":
            return (
                f"pseudonymisation key: MISSING, set {where} (at least 16 bytes, e.g. "
                "hex:<64 hex digits>) before the first run"
            )
    store.put_tenant_secret(tenant_id, SECRET_NAME, os.urandom(32))
    return f"pseudonymisation key: created in {where}"


def retire_tenant_key(tenant_id: str) -> str:
    """Offboarding: destroy a local key (pseudonyms left anywhere can no longer be linked to an
    address); keys in the environment or a secrets manager are the operator's to delete."""
    from warehouse import secrets as store

    where = store.describe_secret_source(tenant_id, SECRET_NAME)
    if store.secrets_backend() == "local":
        path = store.local_secret_path(tenant_id, SECRET_NAME)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return f"pseudonymisation key: {'destroyed' if existed else 'none'} ({where})"
    return f"pseudonymisation key: delete {where} yourself"
