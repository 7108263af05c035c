"""Dates in answers: each citation carries its article's date, and ``since``/``until`` (``qa ask --since
--until``) keep the k best passages of the articles dated in that range."""

import json

import pytest

from qa import search
from qa.answer import Citation
from qa.cli import main
from qa.indexer import update_index
from qa.ranking import Ranking
from qa.retrieval import Retriever

from .conftest import write_corpus

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre"]
TOWNS = (
    "Bamako Niamey Dakar Conakry Lomé Cotonou Accra Abidjan Ouagadougou Nouakchott "
    "Banjul Bissau Freetown Monrovia Yaoundé Libreville Malabo Bangui Kinshasa Brazzaville"
).split()
TRAININGS = {  # sixty made-up press releases of 2016 about training border guards: more than the candidates
    f"formation_{n:02d}.txt": (
        f"Formation n° {n} des gardes-frontières à {TOWNS[n % 20]}\n"
        f"{TOWNS[n % 20]}, {n % 27 + 1} {MONTHS[n % 10]} 2016 – L'OIM a formé {20 + n} gardes-frontières "
        f"à la détection des faux documents de voyage.\n"
        f"La formation a duré {n % 5 + 2} jours.\n"
    )
    for n in range(60)
}
LATER = {
    "bureau_2019.txt": (
        "L'OIM ouvre un bureau à Praia\n"
        "Praia, 5 février 2019 – L'OIM a ouvert un bureau au Cap-Vert pour les migrants de retour.\n"
        "Le bureau emploie six personnes.\n"
    ),
    "astana.txt": (
        "Central Asia ministers meet on migration\n"
        "Astana, 21 May 2015 – Ministers from Central Asia met in Astana to discuss labour migration.\n"
    ),
    "sans_date.txt": (  # no dateline: in no range
        "Formation des gardes-frontières au Caire\n"
        "Le Caire – L'OIM a formé 40 gardes-frontières à la détection des faux documents de voyage.\n"
    ),
}
QUESTION = "formation des gardes-frontières à la détection des faux documents"
FIRST_STAGE = Ranking(rerank=None, read=None)  # one score per passage: rankings can be compared


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dated")
    corpus = write_corpus(folder / "corpus", {**TRAININGS, **LATER})
    update_index(corpus, folder / "index", backend="hash")
    return corpus, folder / "index", Retriever.open(folder / "index", corpus, backend="hash")


def test_citations_carry_their_articles_date(dated):
    _, _, retriever = dated
    cases = {
        "L'OIM ouvre un bureau à Praia": ("bureau_2019.txt", "2019-02-05"),
        "Central Asia ministers meet on labour migration": ("astana.txt", "2015-05-21"),
        "Formation n° 3 des gardes-frontières à Conakry": ("formation_03.txt", "2016-04-04"),
        "gardes-frontières au Caire": ("sans_date.txt", None),
    }
    for question, (doc_id, date) in cases.items():
        [hit] = retriever.answer(question, k=1).hits
        assert (hit.doc_id, hit.citation.date) == (doc_id, date)
        assert hit.as_dict().get("date") == date and ("date" in hit.as_dict()) == (date is not None)


def first_stage_of_everything(retriever: Retriever) -> list[search.Scored]:
    """Every passage of the index, scored by the first stage, best first."""
    query = retriever.embedder.encode_query(QUESTION).vector
    return search.first_stage(retriever.reader, QUESTION, query, len(retriever.reader), FIRST_STAGE.first)


def test_an_article_far_down_the_ranking_is_found_when_it_is_the_only_one_in_range(dated):
    _, _, retriever = dated
    query = retriever.embedder.encode_query(QUESTION).vector
    candidates = search.first_stage(retriever.reader, QUESTION, query, Ranking().candidates, Ranking().first)
    assert "bureau_2019.txt" not in {s.passage.doc_id for s in candidates}  # filtering these would lose it
    answer = retriever.answer(QUESTION, k=5, since="2019-01-01")
    assert answer.hits and {h.doc_id for h in answer.hits} == {"bureau_2019.txt"}
    assert all(h.citation.date == "2019-02-05" for h in answer.hits)


@pytest.mark.parametrize("scored_whole", [search.DATED_SCORED_WHOLE, 0], ids=["range-scored-whole", "search-widened"])
def test_the_k_best_passages_within_the_range_come_back(dated, monkeypatch, scored_whole):
    _, _, retriever = dated
    monkeypatch.setattr(search, "DATED_SCORED_WHOLE", scored_whole)
    manifest = retriever.reader.manifest
    best_in_range = [
        s.passage.passage_id
        for s in first_stage_of_everything(retriever)
        if "2016-03-01" <= (manifest.date_of(s.passage.doc_id) or "") <= "2016-06-30"
    ][:4]
    hits = retriever.retrieve(QUESTION, k=4, ranking=FIRST_STAGE, since="2016-03-01", until="2016-06-30")
    assert [h.passage_id for h in hits] == best_in_range and len(hits) == 4
    assert [h.rank for h in hits] == [1, 2, 3, 4]


def test_an_article_without_a_date_is_left_out_by_any_range_and_kept_without_one(dated):
    _, _, retriever = dated
    question = "gardes-frontières au Caire"
    assert retriever.answer(question, k=3).hits[0].doc_id == "sans_date.txt"
    for since, until in (("1900-01-01", None), (None, "2100-12-31")):
        hits = retriever.answer(question, k=50, since=since, until=until).hits
        assert hits and "sans_date.txt" not in {h.doc_id for h in hits}


def test_no_article_in_the_range_says_so(dated):
    _, _, retriever = dated
    answer = retriever.answer(QUESTION, since="2030-01-01")
    assert not answer.found and answer.hits == []
    assert answer.why_not == "No article of the index is dated since 2030-01-01."


def test_bad_ranges_are_one_clear_error(dated):
    _, _, retriever = dated
    with pytest.raises(ValueError, match=r"^not a date of the form YYYY-MM-DD: '2019-13-01'$"):
        retriever.answer(QUESTION, since="2019-13-01")
    with pytest.raises(ValueError, match=r"^no day is both since 2019-01-01 and until 2018-01-01$"):
        retriever.retrieve(QUESTION, since="2019-01-01", until="2018-01-01")


def test_qa_ask_since_until_in_json_and_text(dated, capsys):
    corpus, index, _ = dated
    where = ["--corpus", str(corpus), "--store", str(index), "--backend", "hash"]
    assert main(["ask", QUESTION, "--json", "-k", "3", "--since", "2016-05-01", "--until", "2016-12-31", *where]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert len(hits) == 3 and all("2016-05-01" <= h["date"] <= "2016-12-31" for h in hits)
    assert main(["ask", QUESTION, "-k", "1", "--since", "2019-01-01", *where]) == 0
    assert "L'OIM ouvre un bureau à Praia  (2019-02-05)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:
        main(["ask", QUESTION, "--since", "2019-13-01", *where])
    assert stopped.value.code == 2
    assert "argument --since: not a date of the form YYYY-MM-DD: '2019-13-01'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    assert "articles without a date are then left out" in " ".join(capsys.readouterr().out.split())


def test_a_citation_without_date_or_ocr_prints_as_before():
    citation = Citation("a.txt", "Titre", "corpus/a.txt", 0, 10, (1, 1))
    assert citation.as_dict() == {
        "doc_id": "a.txt",
        "title": "Titre",
        "path": "corpus/a.txt",
        "start": 0,
        "end": 10,
        "lines": [1, 1],
    }
    dated = Citation("a.pdf", "Titre", "corpus/a.pdf", 0, 10, (1, 1), page=2, date="2017-03-14", ocr=True)
    assert dated.as_dict() == citation.as_dict() | {
        "doc_id": "a.pdf",
        "path": "corpus/a.pdf",
        "page": 2,
        "date": "2017-03-14",
        "ocr": True,
    }
