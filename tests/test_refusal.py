"""Refusing with evidence: what the question names must be in the article, and an answer of its kind."""

from qa.question import analyse
from qa.reader import Found
from qa.refusal import countries_in, judge
from qa.spans import Span

ARTICLE = "L'OIM en Mongolie prépare le Dialogue de 2013. Pär Liljert, chef de mission de l'OIM en Mongolie, a parlé."
PERSON = Found(0.9, 0, Span(0, 11, "person"))


def test_countries_are_recognised_in_four_languages():
    assert countries_in("Sénégal, Senegal, Kasachstan, Egipto, Mongolie") == {"SN", "KZ", "EG", "MN"}


def test_a_country_the_article_does_not_name_is_refused():
    verdict = judge(analyse("Who leads IOM in Senegal?"), 0.86, ARTICLE, PERSON, None)
    assert not verdict.found and "Senegal" in verdict.why_not
    assert judge(analyse("Who leads IOM in Mongolia?"), 0.86, ARTICLE, PERSON, None).found
    assert judge(analyse("Wer leitet die IOM in der Mongolei?"), 0.86, ARTICLE, PERSON, None).found
    assert not judge(analyse("¿Quién dirige la OIM en Kazajistán?"), 0.86, ARTICLE, PERSON, None).found


def test_a_year_the_article_does_not_hold_is_refused():
    assert not judge(analyse("What did IOM Mongolia do in 2019?"), 0.86, ARTICLE, Found(0.9, 0, None), None).found
    assert judge(analyse("What did IOM Mongolia do in 2013?"), 0.86, ARTICLE, Found(0.9, 0, None), None).found


def test_no_answer_of_the_kind_asked_for_is_refused_and_says_whose():
    verdict = judge(analyse("What is his email?"), 0.86, ARTICLE, Found(0.9, 0, None), "Pär Liljert")
    assert not verdict.found and verdict.why_not.endswith("email address for Pär Liljert.")
    assert judge(analyse("Why does Mongolia prepare?"), 0.86, ARTICLE, Found(0.9, 0, None), None).found


def test_a_passage_about_something_else_is_refused():
    assert not judge(analyse("What is the boiling point of mercury?"), 0.70, ARTICLE, Found(0.7, 0, None), None).found


def test_an_ordinal_the_article_does_not_hold_is_refused():
    article = "La cinquième réunion mondiale des PCR s'est tenue au Caire, après la quatrième à Lima."
    where = Found(0.9, 0, Span(0, 5, "place"))
    assert not judge(analyse("Where will the sixth global meeting be held?"), 0.86, article, where, None).found
    assert judge(analyse("Where was the fifth global meeting held?"), 0.86, article, where, None).found
    assert judge(analyse("¿Dónde se celebró la quinta reunión?"), 0.86, article, where, None).found
