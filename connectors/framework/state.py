"""Incremental cursors and checkpoints, kept in the landing zone beside what they describe.

One small JSON document per tenant, source and stream, at
``<tenant>/_state/<source>/<stream>.json``: the landing zone is the source of truth of the whole
warehouse, so the position of a sync lives with the batches it landed (a restored landing zone
restores its cursors too) and needs no other database. Each write replaces the document
atomically (a rename locally, one PUT on S3).

* ``cursor``: what the last *complete* sync reached (a date, an ``updated_at``, a file name);
  the next incremental sync starts from it (less the stream's look-back).
* ``run``: the sync in progress: its id and the slices (a day, a show, an export file) that have
  landed. A slice is checkpointed only after its landing transaction committed, so a sync killed
  at any point resumes by skipping exactly the landed slices; the one in flight is fetched again,
  and because a batch id is a digest of its rows, landing it again replaces the same file instead
  of adding a duplicate.
* ``landed``: a digest of the last row landed under each entity key (an episode; a platform,
  episode and day), so an incremental sync lands only rows that are new or changed: asking
  again for the look-back days of a host that revised nothing lands nothing. Keys of days long
  past the look-back are forgotten; a full sync lands everything regardless.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from warehouse.landing import LandingZone, validate_source
from warehouse.settings import validate_tenant_id

STATE_DIR = "_state"


@dataclass
class RunProgress:
    """A sync in progress: its id, mode, when it started and the slices already landed."""

    run_id: str
    mode: str
    started_at: str
    # Every slice of the run, fixed when it starts, so a resumed run does what was planned.
    slices: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    # What the run will move the cursor to once every slice has landed.
    target_cursor: str | None = None


@dataclass
class StreamState:
    """Where one tenant's stream of one source stands."""

    tenant_id: str
    source: str
    stream: str
    cursor: str | None = None
    last_success_at: str | None = None
    run: RunProgress | None = None
    # Per-slice values a source wants back next time (ETags, page tokens, file digests).
    memo: dict[str, str] = field(default_factory=dict)
    # Entity key -> digest of the row last landed under it: an incremental sync does not land
    # a row again that it already landed unchanged (a look-back that found no revision).
    landed: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "source": self.source,
            "stream": self.stream,
            "cursor": self.cursor,
            "last_success_at": self.last_success_at,
            "run": None if self.run is None else self.run.__dict__,
            "memo": self.memo,
            "landed": self.landed,
        }


def state_key(tenant_id: str, source: str, stream: str) -> str:
    validate_tenant_id(tenant_id)
    validate_source(source)
    validate_source(stream)
    return f"{tenant_id}/{STATE_DIR}/{source}/{stream}.json"


class StateStore:
    """Reads and writes stream states in one landing zone."""

    def __init__(self, zone: LandingZone) -> None:
        self.zone = zone

    def load(self, tenant_id: str, source: str, stream: str) -> StreamState:
        key = state_key(tenant_id, source, stream)
        if not self.zone.storage.exists(key):
            return StreamState(tenant_id, source, stream)
        with self.zone.storage.open_read(key) as handle:
            raw = json.loads(handle.read())
        run = raw.get("run")
        return StreamState(
            tenant_id=tenant_id,
            source=source,
            stream=stream,
            cursor=raw.get("cursor"),
            last_success_at=raw.get("last_success_at"),
            run=RunProgress(**run) if run else None,
            memo=dict(raw.get("memo") or {}),
            landed=dict(raw.get("landed") or {}),
        )

    def save(self, state: StreamState) -> None:
        self.zone.check_scope(state.tenant_id)
        key = state_key(state.tenant_id, state.source, state.stream)
        body = json.dumps(state.to_json(), indent=1, sort_keys=True).encode()
        with self.zone.storage.open_write(key) as handle:
            handle.write(body)

    def reset(self, tenant_id: str, source: str, stream: str) -> None:
        """Forget the cursor and any run in progress: the next sync is a full one."""
        self.save(StreamState(tenant_id, source, stream))


def new_run(mode: str) -> RunProgress:
    return RunProgress(
        run_id=uuid.uuid4().hex[:12],
        mode=mode,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
