"""Connections to the PostgreSQL store: the URI, a small pool that reconnects, clear errors.

The URI is libpq's (``postgresql://user:password@host:port/db?sslmode=require&options=…``,
or its keyword form ``host=… dbname=… password=…``) and goes to libpq unchanged. The
password never leaves the connection string: :attr:`Target.location`, used in every
message, masks it (:func:`qa.store.location.mask`).

The pool keeps a few idle connections for the questions of a long-running
app. A connection found dead (the server restarted, a network cut) is
dropped with every other idle one, and the read is tried once more on a new
connection, so the first question after a restart is answered; when that
fails too the caller gets :class:`StoreUnavailable` with libpq's reason on
one line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import psycopg
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo

from .base import IndexCorrupt, StoreUnavailable
from .location import is_uri, mask
from .postgres_schema import REBUILD, one_line

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10  # seconds, unless the URI says connect_timeout
IDLE_CONNECTIONS = 8
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    conninfo: str = field(repr=False)  # for libpq: may hold the password
    location: str  # for messages: the URI with the password masked

    @classmethod
    def parse(cls, uri: str) -> Target:
        """A ``postgresql://`` URI or a libpq connection string (``host=… dbname=… password=…``)."""
        form = "postgresql:// URI" if is_uri(uri) else "PostgreSQL connection string"
        try:
            location = mask(uri)
        except ValueError:
            raise StoreUnavailable(f"not a valid {form}") from None
        try:
            psycopg.conninfo.conninfo_to_dict(uri)
        except psycopg.ProgrammingError:  # its message may quote the password: not shown
            raise StoreUnavailable(f"not a valid {form}: {location}") from None
        return cls(uri.strip(), location)


class Connections:
    """Connections to one database: :meth:`read` for questions (pooled, retried once on a dead
    connection), :meth:`connect` for a writer's own session."""

    def __init__(
        self, target: Target, application: str = "qa", setup: Callable[[psycopg.Connection], None] | None = None
    ):
        self.target, self.application, self.setup = target, application, setup
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()

    def connect(self, application: str | None = None) -> psycopg.Connection:
        given = psycopg.conninfo.conninfo_to_dict(self.target.conninfo)
        defaults: dict[str, str | int] = {
            "connect_timeout": CONNECT_TIMEOUT,
            "application_name": application or self.application,
        }
        conninfo = psycopg.conninfo.make_conninfo(
            self.target.conninfo, **{k: v for k, v in defaults.items() if k not in given}
        )
        try:
            conn = psycopg.connect(conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"cannot connect to {self.target.location}: {one_line(exc)}") from None
        try:
            register_vector(conn)
            if self.setup is not None:
                self.setup(conn)
        except psycopg.OperationalError as exc:
            conn.close()
            raise StoreUnavailable(f"lost the connection to {self.target.location}: {one_line(exc)}") from None
        return conn

    def read(self, work: Callable[[psycopg.Connection], T]) -> T:
        """``work`` on a pooled connection; once more on a new one if the pooled one was dead."""
        for attempt in range(2):
            conn, reused = self._take()
            try:
                result = work(conn)
            except psycopg.OperationalError as exc:
                conn.close()
                self.close()  # the other idle connections are likely dead too
                if reused and attempt == 0:
                    log.info("connection to %s lost (%s); reconnecting", self.target.location, one_line(exc))
                    continue
                raise StoreUnavailable(f"lost the connection to {self.target.location}: {one_line(exc)}") from None
            except psycopg.errors.InsufficientPrivilege as exc:
                self._give_back(conn)
                raise StoreUnavailable(f"{self.target.location}: {one_line(exc)}") from None
            except psycopg.errors.UndefinedTable as exc:  # dropped by hand under a running reader
                self._give_back(conn)
                raise IndexCorrupt(f"{self.target.location}: {one_line(exc)}; {REBUILD}") from None
            except BaseException:
                self._give_back(conn)
                raise
            self._give_back(conn)
            return result
        raise AssertionError("unreachable")

    @contextmanager
    def session(self) -> Iterator[psycopg.Connection]:
        """A pooled connection for several reads in a row (not retried)."""
        conn, _ = self._take()
        try:
            yield conn
        except psycopg.OperationalError as exc:
            conn.close()
            self.close()
            raise StoreUnavailable(f"lost the connection to {self.target.location}: {one_line(exc)}") from None
        except BaseException:
            self._give_back(conn)
            raise
        self._give_back(conn)

    def _take(self) -> tuple[psycopg.Connection, bool]:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    break
            else:
                return self.connect(), False
        if conn.adapters.types.get("vector") is None:  # opened before the extension was created
            register_vector(conn)
        return conn, True

    def _give_back(self, conn: psycopg.Connection) -> None:
        if conn.closed or conn.broken:
            return
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            try:
                conn.rollback()
            except psycopg.Error:
                conn.close()
                return
        with self._lock:
            if len(self._idle) < IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def register_vector(conn: psycopg.Connection) -> bool:
    """Teach the connection pgvector's ``vector`` type (False while the extension is missing)."""
    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        return False
    register_vector_info(conn, info)
    return True
