"""Newer articles first: where two dated articles answer differently, the newer one leads the reply and
the reply says that an older one says otherwise (qa.recency). Made-up press releases of the seeds' kind."""

import json
from pathlib import Path

import pytest

from qa import retrieval
from qa.cli import format_answer
from qa.indexer import update_index
from qa.judge import Judging
from qa.recency import Reordered, same_answer
from qa.retrieval import Retriever

from .conftest import write_corpus

QUESTION = "Qui est le chef de mission de l'OIM en Mauritanie ?"
GENEVA = (
    "Who spoke on behalf of IOM's Director General at the annual meeting of the intergovernmental group on "
    "mobility and health in Geneva?"
)
OLDER = (
    "L'OIM nomme un chef de mission en Mauritanie\n"
    "Nouakchott, 21 mai 2013 – Le chef de mission de l'OIM en Mauritanie est Jean Dupont, a annoncé l'organisation.\n"
    "Le bureau de Nouakchott emploie vingt personnes.\n"
)
NEWER = (
    "Une nouvelle cheffe pour le bureau de Nouakchott\n"
    "Nouakchott, 14 mars 2017 – Le chef de mission de l'OIM en Mauritanie est désormais Anke Strauss, "
    "a annoncé l'organisation.\n"
    "Le bureau ouvrira une antenne à Nouadhibou.\n"
)
ELSEWHERE = (  # the newest of all, about another office: it does not answer for Mauritania
    "L'OIM au Sénégal accueille son chef de mission\n"
    "Dakar, 3 juin 2019 – Le chef de mission de l'OIM au Sénégal est désormais Moussa Diop, a annoncé l'organisation.\n"
    "Le bureau de Dakar emploie trente personnes.\n"
)
ARTICLES = {"mauritanie_2013.txt": OLDER, "mauritanie_2017.txt": NEWER, "senegal_2019.txt": ELSEWHERE}


def undated(text: str) -> str:
    return text.replace(", 21 mai 2013 –", " –").replace(", 14 mars 2017 –", " –").replace(", 3 juin 2019 –", " –")


def retriever_over(folder, articles: dict[str, str], backend: str = "hash") -> Retriever:
    corpus = write_corpus(folder / "corpus", articles)
    update_index(corpus, folder / "index", backend=backend)
    retriever = Retriever.open(folder / "index", corpus, backend=backend)
    if backend == "hash":  # the model-free vectors are far from every question: the judge's floor is for a model
        retriever.judging = Judging(score_floor=0.0)
    return retriever


def judged_order(retriever: Retriever, question: str, monkeypatch) -> list[str]:
    """The articles of the hits in the judge's order, as they came before newer articles were put first."""
    with monkeypatch.context() as patched:
        patched.setattr(retrieval, "newer_first", lambda scored, *_: Reordered(list(scored), None))
        return [h.doc_id for h in retriever.answer(question).hits]


def test_the_newer_article_comes_first_and_the_older_one_is_named(tmp_path, monkeypatch):
    retriever = retriever_over(tmp_path, ARTICLES)
    assert judged_order(retriever, QUESTION, monkeypatch)[0] == "mauritanie_2013.txt"  # closer to the question
    answer = retriever.answer(QUESTION)
    assert answer.found and answer.short_answer is not None
    assert answer.hits[0].doc_id == "mauritanie_2017.txt" and answer.short_answer.text == "Anke Strauss"
    older = answer.older_differs
    assert older is not None and older.text == "Jean Dupont"
    assert (older.citation.doc_id, older.citation.date) == ("mauritanie_2013.txt", "2013-05-21")
    assert answer.hits[older.hit_rank - 1].doc_id == "mauritanie_2013.txt"
    assert [h.rank for h in answer.hits] == list(range(1, len(answer.hits) + 1))
    record = json.loads(json.dumps(answer.as_dict(), ensure_ascii=False))
    assert record["older_differs"]["text"] == "Jean Dupont" and record["older_differs"]["date"] == "2013-05-21"
    assert record["short_answer"]["date"] == "2017-03-14"
    text = format_answer(answer)
    assert "Answer: Anke Strauss  [1]" in text
    assert f"An older article says otherwise: Jean Dupont  [{older.hit_rank}] " in text and "(2013-05-21)" in text


def test_without_dates_the_judges_order_stays(tmp_path, monkeypatch):
    retriever = retriever_over(tmp_path, {name: undated(text) for name, text in ARTICLES.items()})
    answer = retriever.answer(QUESTION)
    assert answer.found and [h.doc_id for h in answer.hits] == judged_order(retriever, QUESTION, monkeypatch)
    assert answer.older_differs is None and answer.as_dict()["older_differs"] is None
    assert "older article" not in format_answer(answer)


def test_an_undated_first_article_keeps_its_place(tmp_path, monkeypatch):
    retriever = retriever_over(tmp_path, dict(ARTICLES, **{"mauritanie_2013.txt": undated(OLDER)}))
    judged = judged_order(retriever, QUESTION, monkeypatch)
    answer = retriever.answer(QUESTION)
    assert judged[0] == "mauritanie_2013.txt" and [h.doc_id for h in answer.hits] == judged
    assert answer.older_differs is None


def test_dated_articles_that_agree_keep_their_order(tmp_path, monkeypatch):
    agreeing = NEWER.replace("Anke Strauss", "Jean Dupont")
    retriever = retriever_over(tmp_path, dict(ARTICLES, **{"mauritanie_2017.txt": agreeing}))
    judged = judged_order(retriever, QUESTION, monkeypatch)
    answer = retriever.answer(QUESTION)
    assert [h.doc_id for h in answer.hits] == judged and answer.older_differs is None


def test_a_newer_article_about_another_office_is_not_put_first(tmp_path):
    question = "Qui est le chef de mission de l'OIM au Sénégal ?"
    answer = retriever_over(tmp_path, ARTICLES).answer(question)
    assert answer.hits[0].doc_id == "senegal_2019.txt" and answer.older_differs is None
    assert "Mauritanie" not in answer.hits[0].text


COUNTS = {
    "garde_cotes_2018.txt": (
        "L'OIM forme les garde-côtes de Nouadhibou\n"
        "Nouadhibou, 9 octobre 2018 – L'OIM a formé 75 garde-côtes mauritaniens au sauvetage en mer.\n"
        "La formation a duré deux semaines.\n"
    ),
    "rosso_2017.txt": (
        "L'OIM ouvre un centre de transit à Rosso\n"
        "Rosso, 14 mars 2017 – Le centre de transit de l'OIM à Rosso accueillera 1 250 migrants chaque année.\n"
        "Il a été inauguré par le ministre de l'Intérieur.\n"
    ),
}


def test_a_count_of_something_else_does_not_say_otherwise(tmp_path):
    """Two dated articles each give a number, but only one counts the coast guards asked about."""
    retriever = retriever_over(tmp_path, COUNTS)
    for question in (
        "Combien de garde-côtes l'OIM a-t-elle formés à Nouadhibou ?",
        "Combien de migrants le centre de transit de Rosso accueillera-t-il chaque année ?",
    ):
        answer = retriever.answer(question)
        assert answer.found and answer.older_differs is None, (question, answer.older_differs)


@pytest.mark.parametrize(
    "a, b, kind, same",
    [
        ("Anke Strauss", "Anke Strauss, cheffe de mission", "person", True),
        ("Jean Dupont", "JEAN DUPONT", "person", True),
        ("Jean Dupont", "Anke Strauss", "person", False),
        ("Hélène Évrard", "Helene Evrard", "person", True),
        ("1,250", "1,500", "number", False),
        ("", "Jean Dupont", "person", False),
    ],
)
def test_short_answers_are_compared_as_people_read_them(a, b, kind, same):
    assert same_answer(a, b, kind) is same


@pytest.mark.slow
def test_the_real_model_puts_the_newer_chief_first(tmp_path):
    answer = retriever_over(tmp_path, ARTICLES, backend="onnx").answer(QUESTION)
    assert answer.found and answer.short_answer is not None
    assert answer.short_answer.text.startswith("Anke Strauss") and answer.hits[0].doc_id == "mauritanie_2017.txt"
    assert answer.older_differs is not None and answer.older_differs.text.startswith("Jean Dupont")
    assert answer.older_differs.citation.date == "2013-05-21"


@pytest.mark.slow
def test_the_real_model_does_not_take_a_count_of_something_else_for_another_answer(tmp_path):
    retriever = retriever_over(tmp_path, {**COUNTS, **ARTICLES}, backend="onnx")
    earlier = "Combien de migrants le centre de transit de Rosso accueillera-t-il chaque année ?"
    asked = "Combien de garde-côtes l'OIM a-t-elle formés au sauvetage en mer à Nouadhibou ?"
    answer = retriever.answer(asked, history=[earlier])  # "elle": searched with the earlier question
    assert (
        answer.searched != asked
        and answer.found
        and answer.short_answer is not None
        and "75" in answer.short_answer.text
    )
    assert answer.older_differs is None


@pytest.mark.slow
@pytest.mark.parametrize(
    "articles, question, expected",
    [
        (
            ("100_ff9fdfc7c6d8916c.txt", "111_177ff49ce1ae9d16.txt"),
            "Qui dirige le bureau de l’OIM à Nouakchott ?",
            "Hélène",
        ),
        (("114_d3be37d97ee612c4.txt", "123_66495125f6597c64.txt"), GENEVA, "Ingrid Halvorsen"),
    ],
)
def test_a_newer_article_naming_someone_in_another_role_is_no_other_answer(tmp_path, articles, question, expected):
    """Near-misses of the growth set (eval/growth): the head of the Nouakchott office (2016) and the head of
    a new office that reports to it (2017); who spoke for the Director General at one meeting (2016) and at
    another (2017). The newer is not put first, nor said to answer otherwise."""
    growth = Path(__file__).resolve().parent.parent / "eval" / "growth"
    retriever = retriever_over(
        tmp_path, {name: (growth / name).read_text(encoding="utf-8") for name in articles}, "onnx"
    )
    answer = retriever.answer(question)
    assert answer.short_answer is not None and expected in answer.short_answer.text
    assert answer.older_differs is None
