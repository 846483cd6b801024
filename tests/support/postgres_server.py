"""A throw-away PostgreSQL server for tests, run as an unprivileged user.

initdb and postgres refuse to run as root, so when the tests run as root the server runs as the
``postgres`` system user (created by the Debian package). Usage from the shell:

    python -m tests.support.postgres_server start DIR PORT   # prints the env to export
    python -m tests.support.postgres_server stop DIR
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from warehouse.connection import PostgresSettings

PG_BIN = Path(os.environ.get("EARSHOT_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass(frozen=True)
class PostgresServer:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    user: str = "postgres"
    database: str = "earshot"

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def env(self) -> dict[str, str]:
        """Environment for dbt's postgres target and the Earshot warehouse connection."""
        return {
            "EARSHOT_PG_HOST": self.host,
            "EARSHOT_PG_PORT": str(self.port),
            "EARSHOT_PG_USER": self.user,
            "EARSHOT_PG_PASSWORD": "",
            "EARSHOT_PG_DATABASE": self.database,
        }


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    quoted = " ".join(_shell_quote(a) for a in args)
    return ["su", "postgres", "-s", "/bin/bash", "-c", quoted]


def _shell_quote(s: str) -> str:
    return "'" + s.replace("'", "'\"'\"'") + "'"


def start(data_dir: Path, port: int) -> PostgresServer:
    """Create a cluster in ``data_dir`` (if new), start it on 127.0.0.1:``port``, create the db."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(f"PostgreSQL binaries not found in {PG_BIN} (set EARSHOT_PG_BIN)")
    data_dir = Path(data_dir).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # The server user must be able to reach and own its data folder.
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.chown(data_dir, "postgres", "postgres")
        p = data_dir.parent
        while p != p.parent:
            mode = p.stat().st_mode
            if not mode & 0o001:
                os.chmod(p, mode | 0o001)
            p = p.parent
    if not (data_dir / "PG_VERSION").exists():
        subprocess.run(
            _as_server_user(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--locale=C",
                    "--encoding=UTF8",
                ]
            ),
            check=True,
            capture_output=True,
        )
    log = data_dir / "server.log"
    opts = (
        f"-p {port} -k {data_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
    )
    subprocess.run(
        _as_server_user(
            [str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-l", str(log), "-o", opts, "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    server = PostgresServer(data_dir=data_dir, port=port)
    _create_database(server)
    return server


def _create_database(server: PostgresServer) -> None:
    import psycopg

    deadline = time.time() + 30
    while True:
        try:
            with psycopg.connect(
                host=server.host,
                port=server.port,
                user=server.user,
                dbname="postgres",
                autocommit=True,
            ) as conn:
                exists = conn.execute(
                    "select 1 from pg_database where datname = %s", (server.database,)
                ).fetchone()
                if not exists:
                    conn.execute(f'create database "{server.database}"')
                return
        except psycopg.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(0.3)


def fresh_database(server: PostgresServer, name: str) -> PostgresSettings:
    """Drop and create database ``name`` on ``server``; return settings to connect to it."""
    import psycopg

    with psycopg.connect(
        host=server.host, port=server.port, user=server.user, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'drop database if exists "{name}"')
        conn.execute(f'create database "{name}"')
    return PostgresSettings(server.host, server.port, server.user, "", name)


def stop(data_dir: Path) -> None:
    subprocess.run(
        _as_server_user(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(Path(data_dir).resolve()),
                "-m",
                "fast",
                "-w",
                "stop",
            ]
        ),
        check=False,
        capture_output=True,
    )


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "start":
        srv = start(Path(sys.argv[2]), int(sys.argv[3]))
        for k, v in srv.env().items():
            print(f"export {k}={v}")
    elif cmd == "stop":
        stop(Path(sys.argv[2]))
