"""Per-tenant secrets (first: the HMAC-SHA256 key that pseudonymises IPs and emails).

Secrets come from the environment or a secrets manager, never from files in the repository, and
are never logged: no message of this module contains a secret's value, only where it was looked
for. The backend is chosen by ``EARSHOT_SECRETS_BACKEND``; unset, it is ``local`` for local
deployments and ``env`` when ``EARSHOT_DEPLOYMENT=production`` (a production key must be given,
never made up on one machine):

``env``
    ``EARSHOT_SECRET_<NAME>__<TENANT>``, upper-cased (``pseudonym_key`` of ``acme_audio`` is
    ``EARSHOT_SECRET_PSEUDONYM_KEY__ACME_AUDIO``); set by the operator.
``aws``
    AWS Secrets Manager, secret id ``<EARSHOT_SECRETS_PREFIX or "earshot">/<tenant>/<name>``;
    credentials, region and endpoint (``AWS_ENDPOINT_URL``) from boto3's standard chain. Values
    are cached per process, so a run asks once per secret, not once per model.
``local``
    ``$EARSHOT_HOME/secrets/<tenant>/<name>``, 32 random bytes made on first use, readable by
    its owner only. For single-machine deployments; the key lives outside the repository.

Text values (variables, ``SecretString``) are taken as UTF-8 bytes, except that a value starting
with ``hex:`` or ``base64:`` is decoded. Secrets shorter than 16 bytes are refused: an HMAC key
that short could be guessed.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import secrets
import stat
import uuid
from pathlib import Path
from typing import Any

from warehouse.settings import deployment, paths, validate_name, validate_tenant_id

BACKEND_VARIABLE = "EARSHOT_SECRETS_BACKEND"
BACKENDS = ("env", "aws", "local")
AWS_PREFIX_VARIABLE = "EARSHOT_SECRETS_PREFIX"
DEFAULT_AWS_PREFIX = "earshot"
MIN_SECRET_BYTES = 16
GENERATED_SECRET_BYTES = 32


class SecretNotFound(LookupError):
    """No secret where the backend looked; the message says where, never a value."""


class InvalidSecret(ValueError):
    """A secret that exists but cannot be used (too short, badly encoded)."""


class InsecureSecretFile(PermissionError):
    """A local secret file that other users could read."""


class SecretStoreError(RuntimeError):
    """The secrets manager could not be asked (permissions, network, configuration)."""


# -- naming ------------------------------------------------------------------------------------


def validate_secret_name(name: str) -> str:
    return validate_name(name, "secret name")


def secrets_backend() -> str:
    """The configured backend: ``env``, ``aws`` or ``local`` (default: see the module doc)."""
    default = "env" if deployment() == "production" else "local"
    backend = os.environ.get(BACKEND_VARIABLE, default).strip().lower() or default
    if backend not in BACKENDS:
        raise ValueError(
            f"{BACKEND_VARIABLE} must be one of {', '.join(BACKENDS)}, not {backend!r}"
        )
    return backend


def env_variable(tenant_id: str, name: str) -> str:
    """The variable holding ``name`` of ``tenant_id`` for the ``env`` backend."""
    return f"EARSHOT_SECRET_{name.upper()}__{tenant_id.upper()}"


def aws_secret_id(tenant_id: str, name: str) -> str:
    """The Secrets Manager id of ``name`` of ``tenant_id`` for the ``aws`` backend."""
    prefix = os.environ.get(AWS_PREFIX_VARIABLE, DEFAULT_AWS_PREFIX).strip("/ ")
    return f"{prefix or DEFAULT_AWS_PREFIX}/{tenant_id}/{name}"


def local_secret_path(tenant_id: str, name: str) -> Path:
    """The file holding ``name`` of ``tenant_id`` for the ``local`` backend."""
    return paths().home / "secrets" / tenant_id / name


def _checked(tenant_id: str, name: str) -> tuple[str, str]:
    return validate_tenant_id(tenant_id), validate_secret_name(name)


def describe_secret_source(tenant_id: str, name: str) -> str:
    """Where ``name`` of ``tenant_id`` comes from with the current configuration (no value)."""
    tenant_id, name = _checked(tenant_id, name)
    backend = secrets_backend()
    if backend == "env":
        return f"environment variable {env_variable(tenant_id, name)}"
    if backend == "aws":
        endpoint = _aws_endpoint()
        at = f" at {endpoint}" if endpoint else ""
        return f"AWS Secrets Manager secret {aws_secret_id(tenant_id, name)!r}{at}"
    return f"file {local_secret_path(tenant_id, name)}"


# -- reading -----------------------------------------------------------------------------------


def tenant_secret(tenant_id: str, name: str) -> bytes:
    """The secret ``name`` of ``tenant_id`` as bytes, from the configured backend.

    Raises :class:`SecretNotFound` when it is not there (``local`` creates it instead),
    :class:`InvalidSecret` when it is too short or badly encoded.
    """
    tenant_id, name = _checked(tenant_id, name)
    backend = secrets_backend()
    if backend == "env":
        variable = env_variable(tenant_id, name)
        raw = os.environ.get(variable)
        if raw is None or raw == "":
            raise SecretNotFound(
                f"secret {name!r} of tenant {tenant_id!r} not found: environment variable "
                f"{variable} is not set ({BACKEND_VARIABLE}=env)"
            )
        where = f"environment variable {variable}"
        return _usable(_decode_text(raw, where), where)
    if backend == "aws":
        secret_id = aws_secret_id(tenant_id, name)
        value = _aws_secret(
            secret_id, _aws_endpoint(), _aws_region(), os.environ.get("AWS_PROFILE")
        )
        return _usable(value, f"AWS Secrets Manager secret {secret_id!r}")
    return _local_secret(local_secret_path(tenant_id, name))


def tenant_credential(tenant_id: str, name: str) -> str:
    """A credential of ``tenant_id`` (an API token, a client secret) as text.

    Unlike :func:`tenant_secret` it is never made up: the ``local`` backend reads an existing
    file (``put_tenant_secret`` or ``earshot secrets put`` writes it) and refuses a missing one,
    and no minimum length applies (an API's token is what it is). Raises
    :class:`SecretNotFound` naming where it looked, never the value.
    """
    tenant_id, name = _checked(tenant_id, name)
    backend = secrets_backend()
    if backend == "env":
        variable = env_variable(tenant_id, name)
        raw = os.environ.get(variable)
        if raw is None or raw == "":
            raise SecretNotFound(
                f"credential {name!r} of tenant {tenant_id!r} not found: environment variable "
                f"{variable} is not set ({BACKEND_VARIABLE}=env)"
            )
        value = _decode_text(raw, f"environment variable {variable}")
    elif backend == "aws":
        value = _aws_secret(
            aws_secret_id(tenant_id, name),
            _aws_endpoint(),
            _aws_region(),
            os.environ.get("AWS_PROFILE"),
        )
    else:
        path = local_secret_path(tenant_id, name)
        if not path.exists():
            raise SecretNotFound(
                f"credential {name!r} of tenant {tenant_id!r} not found: no file {path} "
                f"(store it with: earshot connectors set-secret --tenant {tenant_id} --name {name})"
            )
        value = _read_private(path, min_bytes=1)
    try:
        return value.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InvalidSecret(
            f"credential {name!r} of tenant {tenant_id!r} is not UTF-8 text"
        ) from None


def clear_cache() -> None:
    """Forget the cached secrets-manager values (after a rotation, and between tests)."""
    _aws_secret.cache_clear()


def _decode_text(raw: str, where: str) -> bytes:
    """A text value as bytes: ``hex:...`` and ``base64:...`` decoded, anything else UTF-8."""
    try:
        if raw.startswith("hex:"):
            return bytes.fromhex(raw[4:].strip())
        if raw.startswith("base64:"):
            return base64.b64decode(raw[7:].strip(), validate=True)
    except (ValueError, binascii.Error):
        # The decoder's message is left out on purpose: it may quote part of the value.
        raise InvalidSecret(f"{where} is not valid {raw.split(':', 1)[0]}") from None
    return raw.encode("utf-8")


def _usable(value: bytes, where: str) -> bytes:
    if len(value) < MIN_SECRET_BYTES:
        raise InvalidSecret(
            f"{where} holds {len(value)} bytes; secrets need at least {MIN_SECRET_BYTES} "
            f"(generate one with: python -c \"import secrets; print('hex:' + "
            f'secrets.token_hex({GENERATED_SECRET_BYTES}))")'
        )
    return value


# -- aws backend -------------------------------------------------------------------------------


def _aws_endpoint() -> str | None:
    """The endpoint boto3 will use for Secrets Manager, when one is set (moto, a VPC endpoint)."""
    return (
        os.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or os.environ.get("AWS_ENDPOINT_URL")
    ) or None


def _aws_region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def _aws_client() -> Any:
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        # boto3 itself reads credentials, region and AWS_ENDPOINT_URL(_SECRETS_MANAGER).
        return boto3.session.Session().client("secretsmanager")
    except BotoCoreError as exc:
        raise SecretStoreError(f"cannot reach AWS Secrets Manager: {exc}") from None


@functools.cache
def _aws_secret(
    secret_id: str, endpoint: str | None, region: str | None, profile: str | None
) -> bytes:
    """One secret from Secrets Manager, cached per process by id and where it was asked.

    Only successful reads are cached (functools.cache does not keep exceptions).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    where = f"AWS Secrets Manager secret {secret_id!r}"
    try:
        response = _aws_client().get_secret_value(SecretId=secret_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise SecretNotFound(
                f"{where} not found ({BACKEND_VARIABLE}=aws, prefix from {AWS_PREFIX_VARIABLE})"
            ) from None
        raise SecretStoreError(f"reading {where} failed: {code}") from None
    except BotoCoreError as exc:
        raise SecretStoreError(f"reading {where} failed: {type(exc).__name__}: {exc}") from None
    if response.get("SecretBinary") is not None:
        return bytes(response["SecretBinary"])
    if response.get("SecretString") is not None:
        return _decode_text(response["SecretString"], where)
    raise SecretNotFound(f"{where} has no value")


def _aws_put(secret_id: str, value: bytes) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    client = _aws_client()
    # Stored as text with the base64: convention, so an operator can inspect and rotate it.
    text = "base64:" + base64.b64encode(value).decode("ascii")
    where = f"AWS Secrets Manager secret {secret_id!r}"
    try:
        try:
            client.create_secret(Name=secret_id, SecretString=text)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceExistsException":
                raise
            client.put_secret_value(SecretId=secret_id, SecretString=text)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise SecretStoreError(f"writing {where} failed: {code}") from None
    except BotoCoreError as exc:
        raise SecretStoreError(f"writing {where} failed: {type(exc).__name__}: {exc}") from None


# -- local backend -----------------------------------------------------------------------------


def _private_folder(folder: Path) -> None:
    """Create ``folder`` (and the secrets folder above it) readable by its owner only."""
    for path in (folder.parent, folder):
        try:
            path.mkdir(mode=0o700, parents=True)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)  # mkdir's mode is narrowed by the umask; make it exact.


def _write_temp(folder: Path, value: bytes) -> Path:
    """``value`` in a new owner-only temporary file in ``folder``, flushed to disk."""
    temp = folder / f".tmp-{uuid.uuid4().hex}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _local_secret(path: Path) -> bytes:
    """Read the secret at ``path``, creating it with random bytes on first use.

    Two processes starting at once both write a candidate, and ``os.link`` (which fails when
    the name exists) lets exactly one of them become the key; the other reads the winner's.
    """
    if not path.exists():
        _private_folder(path.parent)
        temp = _write_temp(path.parent, secrets.token_bytes(GENERATED_SECRET_BYTES))
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            temp.unlink(missing_ok=True)
    return _read_private(path)


def _read_private(path: Path, min_bytes: int = MIN_SECRET_BYTES) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise SecretNotFound(f"secret file {path} not found") from None
    except OSError as exc:
        raise InsecureSecretFile(
            f"cannot open secret file {path} ({exc.strerror}); it must be a regular file"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InsecureSecretFile(f"secret file {path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise InsecureSecretFile(
                f"secret file {path} is accessible to other users (mode {mode:04o}); "
                f"restrict it with: chmod 600 {path}"
            )
        value = handle.read()
    if min_bytes < MIN_SECRET_BYTES:
        if len(value) < min_bytes:
            raise InvalidSecret(f"secret file {path} is empty")
        return value
    return _usable(value, f"secret file {path}")


# -- writing -----------------------------------------------------------------------------------


def put_tenant_secret(tenant_id: str, name: str, value: bytes, *, credential: bool = False) -> str:
    """Store ``value`` as ``name`` of ``tenant_id`` (create or replace); returns where.

    ``credential``: an API credential (read by :func:`tenant_credential`), which may be shorter
    than a key Earshot makes itself.

    For the ``aws`` and ``local`` backends; ``env`` secrets are set by the operator.
    """
    tenant_id, name = _checked(tenant_id, name)
    if not isinstance(value, bytes | bytearray):
        raise TypeError("secret values are bytes")
    value = bytes(value)
    backend = secrets_backend()
    if backend == "env":
        raise SecretStoreError(
            f"{BACKEND_VARIABLE}=env: secrets are set by the operator as environment variables; "
            f"set {env_variable(tenant_id, name)} (prefix hex: or base64: for binary values)"
        )
    where = describe_secret_source(tenant_id, name)
    if not credential:
        _usable(value, f"the new value for {where}")
    elif not value:
        raise InvalidSecret(f"the new value for {where} is empty")
    if backend == "aws":
        _aws_put(aws_secret_id(tenant_id, name), value)
        clear_cache()
        return where
    path = local_secret_path(tenant_id, name)
    _private_folder(path.parent)
    temp = _write_temp(path.parent, value)
    try:
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return where
