"""Which store a location names, and that its password never shows (no database server needed)."""

from __future__ import annotations

import pytest

from qa.cli import main
from qa.store import StoreUnavailable, open_store
from qa.store.faiss import FilesStore
from qa.store.location import is_database, mask, public_location
from qa.store.postgres import PostgresStore

SECRET = "s3cret-Pa55"


def test_libpq_keyword_strings_are_databases_and_folders_are_not(tmp_path):
    assert is_database(f"host=db.example dbname=news user=qa password={SECRET}")
    assert is_database("  dbname = news")
    assert is_database("postgresql://qa@db.example/news") and is_database("postgres://qa@/news")
    assert is_database(f"postgresql:/qa:{SECRET}@db/news")  # mistyped: still not a folder named after it
    assert not is_database("embeddings") and not is_database(str(tmp_path / "host=x"))
    assert not is_database("notakeyword=1") and not is_database(tmp_path)
    store = open_store(f"host={tmp_path} dbname=news user=qa password={SECRET}")
    assert isinstance(store, PostgresStore)
    assert SECRET not in store.location and "password=***" in store.location
    assert isinstance(open_store(tmp_path / "index"), FilesStore)


@pytest.mark.parametrize(
    "location",
    [
        f"host=db dbname=news password={SECRET}",
        f"host=db password = '{SECRET} with spaces' dbname=news",
        f"host=db password='{SECRET} \\' quoted' sslpassword={SECRET} dbname=news",
        f"host=db dbname=news password='{SECRET} unterminated",
        f"postgresql://qa:{SECRET}@db/news?sslmode=require&password={SECRET}&sslpassword={SECRET}",
    ],
)
def test_every_password_is_masked(location):
    shown = mask(location)
    assert SECRET not in shown and "***" in shown
    assert public_location(location) == shown
    assert "dbname=news" in shown or "/news" in shown  # the rest is still there to say which database


def test_a_mistyped_uri_is_refused_without_showing_it():
    location = f"postgresql:/qa:{SECRET}@db/news"
    assert mask(location) == "postgresql:***"
    with pytest.raises(StoreUnavailable, match=r"not a valid postgresql:// URI") as refused:
        open_store(location).current_version()
    assert SECRET not in str(refused.value)


def test_a_keyword_string_goes_to_the_database_and_its_password_is_never_printed(tmp_path, tiny_corpus, capsys):
    """It used to build a files index in a folder named after the string, and print it."""
    work = tmp_path / "work"
    work.mkdir()
    location = f"host={tmp_path / 'no-server'} dbname=news user=qa password={SECRET}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        assert main(["index", "--backend", "hash", "--corpus", str(tiny_corpus), "--store", location]) == 2
        assert main(["ask", "Tromsø", "--backend", "hash", "--corpus", str(tiny_corpus), "--store", location]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("qa: error: cannot connect to host=") and "password=***" in err
    assert SECRET not in out + err
    assert list(work.iterdir()) == []
