"""Which store a location names, and how messages show it: never with a password.

A PostgreSQL database is given as a URI (``postgresql://user:pw@host/db?sslmode=require``)
or in libpq's keyword form (``host=db.example dbname=news user=qa password=…``);
anything else is a folder for the files store. Plain string work, so that
naming a folder imports nothing of the database driver.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

URI_SCHEMES = ("postgresql://", "postgres://")
# libpq's connection keywords (psycopg.pq.Conninfo.get_defaults()); a location starting with one of
# them and "=" is a connection string, not a folder.
KEYWORDS = frozenset(
    "application_name channel_binding client_encoding connect_timeout dbname fallback_application_name "
    "gssdelegation gssencmode gsslib host hostaddr keepalives keepalives_count keepalives_idle "
    "keepalives_interval krbsrvname load_balance_hosts max_protocol_version min_protocol_version "
    "oauth_client_id oauth_client_secret oauth_issuer oauth_scope options passfile password port replication "
    "require_auth requirepeer scram_client_key scram_server_key service ssl_max_protocol_version "
    "ssl_min_protocol_version sslcert sslcertmode sslcompression sslcrl sslcrldir sslkey sslkeylogfile sslmode "
    "sslnegotiation sslpassword sslrootcert sslsni target_session_attrs tcp_user_timeout user".split()
)
SECRETS = frozenset({"password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key"})
MASK = "***"

_SCHEME = re.compile(r"\s*(postgres(?:ql)?):", re.IGNORECASE)  # postgresql:/… is a mistyped URI, not a folder
_FIRST_KEYWORD = re.compile(r"\s*([a-z_]+)\s*=")
# a secret's value in the keyword form: quoted (backslash escapes; unterminated runs to the end) or a word
_SECRET_VALUE = re.compile(
    r"(?<!\S)(" + "|".join(sorted(SECRETS)) + r")(\s*=\s*)('(?:[^'\\]|\\.)*(?:'|\\?$)|\S*)", re.DOTALL
)


def is_database(location: str | Path) -> bool:
    """A ``postgresql://`` URI, or a libpq connection string (``host=… dbname=…``)."""
    if isinstance(location, Path):
        return False
    if is_uri(location):
        return True
    first = _FIRST_KEYWORD.match(location)
    return first is not None and first.group(1) in KEYWORDS


def is_uri(location: str) -> bool:
    """``postgresql:``/``postgres:`` and what follows (a well-formed URI goes on with ``//``)."""
    return _SCHEME.match(location) is not None


def mask(location: str) -> str:
    """The location with every password (or other secret) replaced by ``***``. Raises ValueError
    for a URI that cannot be split."""
    scheme = _SCHEME.match(location)
    if scheme is None:
        return _SECRET_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", location)
    if not location.strip().startswith(URI_SCHEMES):  # mistyped: where a password would be cannot be told
        return f"{scheme.group(1)}:{MASK}"
    parts = urlsplit(location.strip())
    netloc = parts.netloc
    userinfo, at, hosts = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{hosts}"
    query = "&".join(
        f"{k}={MASK}" if k in SECRETS else f"{k}={quote(v, safe='/:,=-_.')}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def public_location(location: str | Path) -> str:
    """``location`` as messages may show it: a database's with its password masked."""
    if is_database(location):
        try:
            return mask(str(location))
        except ValueError:
            return "(a PostgreSQL location that cannot be read)"
    return str(location)
