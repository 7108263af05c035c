"""Articles' dates in the manifest and from the indexer (both stores keeping them is in the conformance suite)."""

from qa.indexer import update_index
from qa.store import Manifest, open_store

from .conftest import write_corpus
from .store_conformance import SETTINGS


def test_a_manifest_written_before_dates_were_kept_still_opens():
    manifest = Manifest(SETTINGS)
    written = manifest.to_json().replace(',"dates":[]', "")
    assert '"dates"' not in written
    assert Manifest.from_json(written).documents == {}
    with_one = Manifest.from_json(
        written.replace('"ids":[]', '"ids":["a.txt"]')
        .replace('"hashes":[]', '"hashes":["h"]')
        .replace('"titles":[]', '"titles":["T"]')
        .replace('"passages":[]', '"passages":["p1 p2"]')
    )
    assert with_one.date_of("a.txt") is None and with_one.documents["a.txt"].passage_ids == ("p1", "p2")


def test_the_indexer_keeps_each_articles_date_in_the_index(tmp_path):
    corpus = write_corpus(
        tmp_path / "corpus",
        {
            "a.txt": "Un bureau à Praia\nPraia, 5 février 2019 – L'OIM a ouvert un bureau.\n",
            "b.txt": "Un atelier au Caire\nLe Caire – Un atelier a réuni 40 policiers.\n",
        },
    )
    update_index(corpus, tmp_path / "index", backend="hash")
    manifest = open_store(tmp_path / "index").open_reader().manifest
    assert {d: e.date for d, e in manifest.documents.items()} == {"a.txt": "2019-02-05", "b.txt": None}
