"""Answers that stay right as the corpus grows, with the real model: a near-miss article added to the seed
corpus, a count of members against a count of observers, the passages of the country asked about read first."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.indexer import update_index
from qa.retrieval import Retriever

pytestmark = pytest.mark.slow

NEAR_MISS = """IOM opens a new office in Nouakchott
Nouakchott, 14 March 2017 – The International Organization for Migration (IOM) today opened a new office in
Nouakchott to support the Government of Mauritania in managing migration along its northern border.
The new office is led by Ahmed Ould Salem, head of the IOM Nouakchott office, who has worked for IOM in
West Africa for twelve years. "Mauritania is a country of transit and of destination," he said.
The office will employ 35 staff and will open a border post in Nouadhibou next year.
For more information please contact Fatimetou Mint Ahmed, IOM Nouakchott, Tel: +222 4525 1234,
Email: fmintahmed@iom.int
"""

CHAD = """L’OIM au Tchad ouvre un centre de transit à Bol
N’Djamena, 3 mai 2018 – L’OIM a ouvert aujourd’hui un centre de transit à Bol, sur les rives du lac, pour
accueillir les familles déplacées par les violences. « Ce centre offre un abri sûr aux familles qui
arrivent épuisées », a déclaré Céline Ngarta, cheffe de mission de l’OIM au Tchad.
Pour plus d’informations, veuillez contacter Idriss Mahamat, OIM Tchad, Email: imahamat@iom.int
"""


@pytest.fixture(scope="module")
def grown(tmp_path_factory, seed_corpus) -> Retriever:
    """The seed corpus with two ordinary press releases about other IOM offices added, in English and French."""
    folder = tmp_path_factory.mktemp("grown")
    corpus = folder / "corpus"
    corpus.mkdir()
    for article in Path(seed_corpus).iterdir():
        (corpus / article.name).write_bytes(article.read_bytes())
    (corpus / "nouakchott.txt").write_text(NEAR_MISS, encoding="utf-8")
    (corpus / "tchad.txt").write_text(CHAD, encoding="utf-8")
    update_index(corpus, folder / "index")
    return Retriever.open(folder / "index", corpus)


def test_a_near_miss_article_leaves_the_headline_answer_right(grown):
    answer = grown.answer("Who leads IOM Mongolia?")
    assert answer.found and "Pär Liljert" in answer.short_answer.text
    other = grown.answer("Who leads the IOM office in Nouakchott?")
    assert other.found and "Ahmed Ould Salem" in other.short_answer.text


def test_the_count_of_members_is_not_the_count_of_observers(retriever):
    answer = retriever.answer("How many member states does the Non-Aligned Movement have?")
    assert answer.found and "120" in answer.short_answer.text
    observers = retriever.answer("Combien de pays ont le statut d'observateur au Mouvement des non-alignés ?")
    assert observers.found and "17" in observers.short_answer.text


def test_the_country_asked_about_is_read_first_across_languages(grown):
    answer = grown.answer("Who leads IOM in Chad?")
    assert answer.found and "Céline Ngarta" in answer.short_answer.text
