"""S3Storage against a real moto server process: the landing zone's storage protocol on S3."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from tests.support.moto_server import moto_server
from warehouse.entities import ENTITIES
from warehouse.s3_storage import S3AccessDenied, S3KeyNotFound, S3Storage, S3StorageError

# A credential value that must never show up in an error message.
DUMMY_SECRET_KEY = "dummy-secret-access-key-0123456789"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials only, and none of the developer's own AWS configuration."""
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "EARSHOT_S3_ENDPOINT_URL",
        "EARSHOT_LANDING_BUCKET",
        "EARSHOT_LANDING_PREFIX",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")


@pytest.fixture
def client(endpoint: str, aws_env: None) -> Any:
    return boto3.client("s3", endpoint_url=endpoint)


@pytest.fixture
def bucket(client: Any) -> str:
    name = f"landing-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def storage(client: Any, bucket: str) -> S3Storage:
    return S3Storage(bucket, "landing/", client)


def put(storage: S3Storage, key: str, data: bytes = b"x") -> None:
    with storage.open_write(key) as handle:
        handle.write(data)


def read(storage: S3Storage, key: str) -> bytes:
    with storage.open_read(key) as handle:
        return handle.read()


def object_keys(client: Any, bucket: str) -> list[str]:
    response = client.list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in response.get("Contents", [])]


# -- keys --------------------------------------------------------------------------------------


def test_object_keys_join_prefix_and_key_with_one_slash(client: Any, bucket: str) -> None:
    for prefix, expected in [
        ("landing/", "landing/acme/a.bin"),
        ("/landing", "landing/acme/a.bin"),
        ("deep/landing", "deep/landing/acme/a.bin"),
        ("", "acme/a.bin"),
    ]:
        storage = S3Storage(bucket, prefix, client)
        put(storage, "acme/a.bin", b"hello")
        assert expected in object_keys(client, bucket)
        assert storage.describe("acme/a.bin") == f"s3://{bucket}/{expected}"
        assert storage.exists("acme/a.bin")


@pytest.mark.parametrize(
    "key", ["", "/abs/key", "../up", "a/../b", "a//b", "a/./b", "a/", ".", "a\\b"]
)
def test_invalid_keys_are_refused(storage: S3Storage, key: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        storage.describe(key)
    with pytest.raises(ValueError), storage.open_write(key):
        pass
    with pytest.raises(ValueError):
        storage.exists(key)
    with pytest.raises(ValueError):
        storage.move(key, "ok/key")
    with pytest.raises(ValueError):
        storage.move("ok/key", key)
    with pytest.raises(ValueError):
        storage.delete_prefix(key)
    with pytest.raises(ValueError):
        storage.parquet_rows(key)
    with pytest.raises(ValueError), storage.local_paths(["ok/key", key]):
        pass
    if key:  # "" is the top level, a valid prefix for listing children
        with pytest.raises(ValueError):
            storage.list_children(key)
        with pytest.raises(ValueError):
            storage.list_files(key)


def test_invalid_prefix_and_bucket_are_refused(client: Any) -> None:
    with pytest.raises(ValueError):
        S3Storage("some-bucket", "a/../b", client)
    with pytest.raises(ValueError):
        S3Storage("", "landing", client)
    with pytest.raises(ValueError):
        S3Storage("some-bucket", "", client, page_size=1001)


# -- writing -----------------------------------------------------------------------------------


def test_open_write_then_read_back(storage: S3Storage) -> None:
    assert not storage.exists("acme/files/a.bin")
    put(storage, "acme/files/a.bin", b"\x00\x01payload")
    assert storage.exists("acme/files/a.bin")
    assert read(storage, "acme/files/a.bin") == b"\x00\x01payload"
    # Replacing is allowed and complete.
    put(storage, "acme/files/a.bin", b"second")
    assert read(storage, "acme/files/a.bin") == b"second"


def test_exists_is_exact(storage: S3Storage) -> None:
    put(storage, "acme/files/a.bin.old")
    put(storage, "acme/files/a/b")
    assert not storage.exists("acme/files/a.bin")
    assert not storage.exists("acme/files/a")  # a "folder" is not an object
    assert storage.exists("acme/files/a/b")


def test_exception_inside_open_write_uploads_nothing(
    storage: S3Storage, client: Any, bucket: str
) -> None:
    with pytest.raises(RuntimeError, match="boom"), storage.open_write("acme/new.bin") as handle:
        handle.write(b"partial")
        raise RuntimeError("boom")
    assert not storage.exists("acme/new.bin")
    assert object_keys(client, bucket) == []

    put(storage, "acme/kept.bin", b"old content")
    with pytest.raises(RuntimeError), storage.open_write("acme/kept.bin") as handle:
        handle.write(b"new content, never complete")
        raise RuntimeError("boom")
    assert read(storage, "acme/kept.bin") == b"old content"


def test_big_writes_spill_to_disk_and_upload_in_parts(client: Any, bucket: str) -> None:
    storage = S3Storage(
        bucket,
        "landing",
        client,
        spool_max_bytes=64 * 1024,
        transfer_config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB),
    )
    data = bytes(range(256)) * (11 * MiB // 256)
    with storage.open_write("acme/big.bin") as handle:
        for start in range(0, len(data), MiB):
            handle.write(data[start : start + MiB])
        assert handle._rolled  # type: ignore[attr-defined]  # spilled to a temporary file
    head = client.head_object(Bucket=bucket, Key="landing/acme/big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts
    assert read(storage, "acme/big.bin") == data


# -- moving ------------------------------------------------------------------------------------


def test_move_replaces_target_and_removes_source(storage: S3Storage) -> None:
    put(storage, "acme/_staging/t1/000000.parquet", b"new")
    put(storage, "acme/files/orders/dt=2026-11-24/b.parquet", b"old")
    storage.move("acme/_staging/t1/000000.parquet", "acme/files/orders/dt=2026-11-24/b.parquet")
    assert not storage.exists("acme/_staging/t1/000000.parquet")
    assert read(storage, "acme/files/orders/dt=2026-11-24/b.parquet") == b"new"


def test_move_of_big_object_uses_multipart_copy(client: Any, bucket: str) -> None:
    storage = S3Storage(
        bucket,
        "landing",
        client,
        transfer_config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB),
    )
    data = b"0123456789abcdef" * (12 * MiB // 16)
    put(storage, "acme/_staging/big", data)
    storage.move("acme/_staging/big", "acme/files/big")
    head = client.head_object(Bucket=bucket, Key="landing/acme/files/big")
    assert head["ETag"].strip('"').endswith("-3")
    assert read(storage, "acme/files/big") == data
    assert not storage.exists("acme/_staging/big")


def test_move_of_missing_source_names_bucket_and_key(storage: S3Storage, bucket: str) -> None:
    with pytest.raises(FileNotFoundError) as caught:
        storage.move("acme/missing", "acme/target")
    assert isinstance(caught.value, S3KeyNotFound)
    assert f"s3://{bucket}/landing/acme/missing" in str(caught.value)
    assert not storage.exists("acme/target")


# -- listing -----------------------------------------------------------------------------------


def test_list_files_is_recursive_sorted_and_skips_hidden(storage: S3Storage) -> None:
    for key in [
        "acme/files/orders/dt=2026-11-25/b.parquet",
        "acme/files/orders/dt=2026-11-24/a.parquet",
        "acme/files/orders/dt=2026-11-24/notes.txt",
        "acme/files/orders/dt=2026-11-24/.tmp-123-a.parquet",
        "acme/files/orders/.hidden/c.parquet",
        "acme/files/orders_old/d.parquet",  # a sibling sharing the prefix string
        "other/files/orders/e.parquet",
    ]:
        put(storage, key)
    assert storage.list_files("acme/files/orders") == [
        "acme/files/orders/dt=2026-11-24/a.parquet",
        "acme/files/orders/dt=2026-11-24/notes.txt",
        "acme/files/orders/dt=2026-11-25/b.parquet",
    ]
    assert storage.list_files("acme/files/orders", suffix=".parquet") == [
        "acme/files/orders/dt=2026-11-24/a.parquet",
        "acme/files/orders/dt=2026-11-25/b.parquet",
    ]
    assert storage.list_files("acme", suffix="a.parquet") == [
        "acme/files/orders/dt=2026-11-24/a.parquet"
    ]
    assert storage.list_files("nobody") == []
    assert storage.list_files("acme/files/orders/dt=2026-11-24/a.parquet") == []


def test_listing_and_deleting_paginate(client: Any, bucket: str) -> None:
    storage = S3Storage(bucket, "landing", client, page_size=2)
    keys = [
        f"acme/files/orders/dt=2026-11-{day:02d}/b{i}.parquet"
        for day in (1, 2, 3)
        for i in (1, 2, 3)
    ]
    for key in keys:
        put(storage, key)
    assert storage.list_files("acme") == sorted(keys)
    assert storage.list_children("acme/files/orders") == [
        "dt=2026-11-01",
        "dt=2026-11-02",
        "dt=2026-11-03",
    ]
    assert sorted(storage.sizes("acme")) == sorted(keys)
    storage.delete_prefix("acme/files")
    assert storage.list_files("acme") == []


def test_more_than_a_thousand_objects(client: Any, bucket: str) -> None:
    """S3's own page and batch limit (1000 keys): listing and deleting go past it."""
    storage = S3Storage(bucket, "landing", client)
    keys = [f"acme/many/{i:04d}.bin" for i in range(1003)]
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda k: client.put_object(Bucket=bucket, Key=f"landing/{k}", Body=b"1"), keys
            )
        )
    assert storage.list_files("acme/many") == keys
    assert len(storage.sizes("acme")) == 1003
    storage.delete_prefix("acme")
    assert object_keys(client, bucket) == []


def test_list_children(storage: S3Storage) -> None:
    for key in [
        "acme/files/orders/dt=2026-11-24/a.parquet",
        "acme/files/episodes/dt=2026-11-24/a.parquet",
        "acme/_quarantine/files/orders/dt=2026-11-24/a.parquet",
        "acme/.hidden/x",
        "acme/top-level-file.txt",
        "beta/files/orders/a.parquet",
    ]:
        put(storage, key)
    assert storage.list_children("") == ["acme", "beta"]
    assert storage.list_children("acme") == ["_quarantine", "files"]
    assert storage.list_children("acme/files") == ["episodes", "orders"]
    assert storage.list_children("acme/files/orders/dt=2026-11-24") == []
    assert storage.list_children("nobody") == []


def test_list_children_top_level_without_prefix(client: Any, bucket: str) -> None:
    storage = S3Storage(bucket, "", client, page_size=1)
    for key in ["c/x", "a/x", "b/y/z", ".hidden/x", "file-at-top"]:
        put(storage, key)
    assert storage.list_children("") == ["a", "b", "c"]


def test_sizes(storage: S3Storage) -> None:
    put(storage, "acme/files/a.bin", b"12345")
    put(storage, "acme/files/sub/b.bin", b"")
    put(storage, "acme/files/.tmp-c.bin", b"123")
    put(storage, "acme/filesystem/d.bin", b"1")
    assert storage.sizes("acme/files") == {"acme/files/a.bin": 5, "acme/files/sub/b.bin": 0}
    assert storage.sizes("nobody") == {}


# -- deleting ----------------------------------------------------------------------------------


def test_delete_prefix(storage: S3Storage, client: Any, bucket: str) -> None:
    for key in [
        "acme/_staging/t1/000000.parquet",
        "acme/_staging/t1/.tmp-hidden",
        "acme/_staging/t1",  # an object named exactly like the prefix
        "acme/_staging/t10/000000.parquet",  # shares the prefix string, not the folder
        "beta/_staging/t1/000000.parquet",
    ]:
        put(storage, key)
    storage.delete_prefix("acme/_staging/t1")
    assert sorted(object_keys(client, bucket)) == [
        "landing/acme/_staging/t10/000000.parquet",
        "landing/beta/_staging/t1/000000.parquet",
    ]
    storage.delete_prefix("nobody")  # nothing there: no error


def test_delete_stale_by_age(storage: S3Storage) -> None:
    for key in [
        "acme/_staging/t1/000000.parquet",
        "acme/_staging/t2/sub/000000.parquet",
        "acme/_staging/file-directly-under",
        "acme/files/orders/a.parquet",
    ]:
        put(storage, key)
    storage.delete_stale("acme/_staging", older_than_s=3600)
    assert len(storage.list_files("acme")) == 4
    # A negative age puts the cutoff in the future: every folder under the prefix is stale.
    storage.delete_stale("acme/_staging", older_than_s=-60)
    assert storage.list_files("acme") == [
        "acme/_staging/file-directly-under",
        "acme/files/orders/a.parquet",
    ]
    storage.delete_stale("nobody", older_than_s=0)


def test_delete_stale_goes_by_the_newest_object(
    storage: S3Storage, client: Any, bucket: str
) -> None:
    """A folder with one recent object is live; the cutoff falls between the two ages."""
    put(storage, "acme/_staging/old/a")
    put(storage, "acme/_staging/live/a")

    def modified(key: str) -> datetime:
        return client.head_object(Bucket=bucket, Key=f"landing/{key}")["LastModified"]

    old = modified("acme/_staging/old/a")
    # S3 keeps LastModified to the second: write again until the clock has moved on.
    deadline = time.monotonic() + 5
    put(storage, "acme/_staging/live/b")
    while modified("acme/_staging/live/b") <= old:
        assert time.monotonic() < deadline, "the server's clock did not move"
        time.sleep(0.2)
        put(storage, "acme/_staging/live/b")
    cutoff = modified("acme/_staging/live/b").timestamp()
    storage._delete_older_than("acme/_staging", cutoff)
    assert storage.list_files("acme") == ["acme/_staging/live/a", "acme/_staging/live/b"]


# -- reading -----------------------------------------------------------------------------------


def test_open_read_is_seekable(storage: S3Storage) -> None:
    put(storage, "acme/a.bin", b"0123456789")
    with storage.open_read("acme/a.bin") as handle:
        handle.seek(-3, io.SEEK_END)
        assert handle.read() == b"789"
        handle.seek(2)
        assert handle.read(3) == b"234"


def test_open_read_of_missing_key(storage: S3Storage, bucket: str) -> None:
    with pytest.raises(FileNotFoundError, match=f"s3://{bucket}/landing/acme/none"):
        read(storage, "acme/none")


def multi_group_parquet(rows: int) -> bytes:
    table = pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "name": pa.array([f"row-{i}" for i in range(rows)]),
            "value": pa.array([i * 0.5 for i in range(rows)]),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=1000)
    return sink.getvalue()


def test_parquet_rows_from_the_footer(storage: S3Storage) -> None:
    data = multi_group_parquet(4321)
    assert pq.read_metadata(io.BytesIO(data)).num_row_groups == 5
    put(storage, "acme/files/orders/dt=2026-11-24/x.parquet", data)
    assert storage.parquet_rows("acme/files/orders/dt=2026-11-24/x.parquet") == 4321

    put(storage, "acme/empty.parquet", multi_group_parquet(0))
    assert storage.parquet_rows("acme/empty.parquet") == 0


def test_parquet_rows_refuses_other_files(storage: S3Storage, bucket: str) -> None:
    put(storage, "acme/not.parquet", b"this is not parquet at all")
    with pytest.raises(ValueError, match=f"s3://{bucket}/landing/acme/not.parquet"):
        storage.parquet_rows("acme/not.parquet")
    put(storage, "acme/tiny.parquet", b"PAR1")
    with pytest.raises(ValueError, match="not a Parquet file"):
        storage.parquet_rows("acme/tiny.parquet")
    # A plausible tail whose footer length points before the start of the object.
    put(storage, "acme/lying.parquet", b"PAR1" + (1000).to_bytes(4, "little") + b"PAR1")
    with pytest.raises(ValueError, match="footer"):
        storage.parquet_rows("acme/lying.parquet")
    with pytest.raises(FileNotFoundError):
        storage.parquet_rows("acme/missing.parquet")


def test_local_paths_downloads_in_order_and_cleans_up(storage: S3Storage) -> None:
    keys = [
        "acme/files/orders/dt=2026-11-25/batch.parquet",
        "acme/files/orders/dt=2026-11-24/batch.parquet",  # same file name, other folder
        "acme/files/episodes/dt=2026-11-24/e.parquet",
    ]
    tables = {}
    for i, key in enumerate(keys):
        tables[key] = pa.table({"n": [i] * (i + 1)})
        with storage.open_write(key) as handle:
            pq.write_table(tables[key], handle)
    with storage.local_paths(keys) as paths:
        assert len(paths) == len(set(paths)) == 3
        for key, path in zip(keys, paths, strict=True):
            assert path.as_posix().endswith(key)
            assert pq.read_table(path).equals(tables[key])
        folder = paths[0].parents[4]
        assert folder.is_dir()
    assert not folder.exists()

    with pytest.raises(RuntimeError), storage.local_paths(keys[:1]) as paths:
        folder = paths[0].parents[4]
        raise RuntimeError("reader failed")
    assert not folder.exists()

    with storage.local_paths([]) as paths:
        assert paths == []


def test_local_paths_of_missing_key(storage: S3Storage, bucket: str) -> None:
    put(storage, "acme/a")
    with pytest.raises(FileNotFoundError, match=f"s3://{bucket}/landing/acme/b"):  # noqa: SIM117
        with storage.local_paths(["acme/a", "acme/b"]):
            pass


# -- errors and configuration ------------------------------------------------------------------


def test_missing_bucket_errors_name_bucket_and_key(client: Any) -> None:
    storage = S3Storage("no-such-bucket-here", "landing", client)
    attempts = [
        lambda: put(storage, "acme/a"),
        lambda: storage.exists("acme/a"),
        lambda: storage.list_files("acme"),
        lambda: storage.list_children(""),
        lambda: read(storage, "acme/a"),
        lambda: storage.parquet_rows("acme/a"),
        lambda: storage.move("acme/a", "acme/b"),
    ]
    for attempt in attempts:
        with pytest.raises(S3StorageError) as caught:
            attempt()
        message = str(caught.value)
        assert "no-such-bucket-here" in message
        assert "s3://no-such-bucket-here/landing/" in message
        assert "does not exist" in message
        assert not isinstance(caught.value, FileNotFoundError)
        assert DUMMY_SECRET_KEY not in message


def test_unreachable_endpoint_error_names_bucket(aws_env: None) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}"
    client = boto3.client(
        "s3",
        endpoint_url=closed,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2),
    )
    storage = S3Storage("some-bucket", "landing", client)
    with pytest.raises(S3StorageError, match="s3://some-bucket/landing/acme") as caught:
        storage.exists("acme/a")
    assert DUMMY_SECRET_KEY not in str(caught.value)


def test_access_denied_maps_to_permission_error(client: Any) -> None:
    """An error answer with an access code (moto grants everything, so it is injected here)."""
    storage = S3Storage("some-bucket", "landing", client)
    from botocore.exceptions import ClientError

    denied = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject"
    )
    error = storage._translate(denied, "read", "landing/acme/a")
    assert isinstance(error, S3AccessDenied) and isinstance(error, PermissionError)
    assert "s3://some-bucket/landing/acme/a" in str(error)


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_from_env(endpoint: str, client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="EARSHOT_LANDING_BUCKET"):
        S3Storage.from_env()

    monkeypatch.setenv("EARSHOT_LANDING_BUCKET", bucket)
    monkeypatch.setenv("EARSHOT_LANDING_PREFIX", "prod/landing/")
    monkeypatch.setenv("EARSHOT_S3_ENDPOINT_URL", endpoint)
    storage = S3Storage.from_env()
    put(storage, "acme/a.bin", b"via explicit endpoint")
    assert object_keys(client, bucket) == ["prod/landing/acme/a.bin"]
    assert storage.describe("acme/a.bin") == f"s3://{bucket}/prod/landing/acme/a.bin"

    # boto3's own AWS_ENDPOINT_URL is honoured as well.
    monkeypatch.delenv("EARSHOT_S3_ENDPOINT_URL")
    monkeypatch.delenv("EARSHOT_LANDING_PREFIX")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    storage = S3Storage.from_env()
    assert storage.prefix == ""
    assert storage.list_files("prod") == ["prod/landing/acme/a.bin"]


# -- the landing zone on S3 --------------------------------------------------------------------


def orders_table(n: int) -> pa.Table:
    schema = ENTITIES["orders"].schema
    columns: dict[str, list[Any]] = {
        "order_id": [f"o{i}" for i in range(n)],
        "ts": [datetime(2026, 11, 24 + i % 2, 10, i) for i in range(n)],
        "ip": [f"192.0.2.{i}" for i in range(n)],
        "user_agent": ["Mozilla/5.0"] * n,
        "customer_id": [f"c{i}" for i in range(n)],
        "revenue": [10.0 + i for i in range(n)],
        "currency": ["USD"] * n,
        "discount_codes": [None] * n,
        "landing_url": ["https://example.com/"] * n,
        "referrer": [None] * n,
        "survey_answer": [None] * n,
    }
    return pa.table(columns, schema=schema)


def test_landing_zone_round_trip_on_s3(storage: S3Storage, client: Any, bucket: str) -> None:
    from warehouse.landing import LandingZone

    zone = LandingZone(Path("unused"), storage=storage)
    landed = zone.write_batch("acme", "files", "orders", orders_table(6), cursor="file-1")
    assert sorted(f.dt.isoformat() for f in landed) == ["2026-11-24", "2026-11-25"]

    keys = zone.storage.list_files("acme/files/orders", suffix=".parquet")
    assert len(keys) == 2
    assert all(k.startswith("acme/files/orders/dt=2026-11-2") for k in keys)
    assert sum(storage.parquet_rows(k) for k in keys) == 6
    # Staging was cleaned up after the commit, and nothing was written outside the prefix.
    assert storage.list_files("acme/_staging") == []
    assert all(k.startswith("landing/acme/files/orders/") for k in object_keys(client, bucket))
    assert not Path("unused").exists()

    with storage.local_paths(keys) as paths:
        rows = pa.concat_tables([pq.read_table(p) for p in paths])
    assert sorted(rows.column("order_id").to_pylist()) == [f"o{i}" for i in range(6)]
    assert set(rows.column("_tenant_id").to_pylist()) == {"acme"}

    # Landing the same rows again replaces the same objects instead of adding new ones.
    zone.write_batch("acme", "files", "orders", orders_table(6), cursor="file-1-again")
    assert zone.storage.list_files("acme/files/orders", suffix=".parquet") == keys
