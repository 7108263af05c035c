"""The reader on made-up passages: the right sentence, the right span, and whose email it is."""

import numpy as np

from qa.question import analyse
from qa.rule_reader import Evidence, candidate_spans, is_contact, read_passage
from qa.sentences import split_sentences

PASSAGE = (
    "« Elle permettra d’orienter la position de la Mongolie », a déclaré Pär Liljert, chef de mission de l’OIM en "
    "Mongolie. Pour plus d’informations, veuillez contacter Oyunbileg Rentsendorj OIM Mongolie Tel: +976 7014 3100 "
    "Email: orentsendorj@iom.int"
)


def evidence(text: str, relevance: list[float]) -> Evidence:
    return Evidence(text, tuple(split_sentences(text)), np.array(relevance), None)


def shown(found, text: str = PASSAGE) -> str | None:
    return text[found.span.start : found.span.end] if found.span else None


def test_the_contact_block_answers_contact_questions_only():
    assert is_contact(PASSAGE[PASSAGE.index("Pour plus") :]) and not is_contact(PASSAGE[: PASSAGE.index("Pour plus")])
    # the contact line matches the question a little better, as the model often finds
    ev = evidence(PASSAGE, [0.84, 0.85])
    leads = read_passage(analyse("Who leads IOM Mongolia?"), ev)
    assert leads.sentence == 0 and shown(leads) == "Pär Liljert, chef de mission de l’OIM en Mongolie"
    contact = read_passage(analyse("Whom should I contact for more information?"), ev)
    assert contact.sentence == 1 and shown(contact) == "Oyunbileg Rentsendorj"
    assert shown(read_passage(analyse("What is the phone number?"), ev)) == "+976 7014 3100"


def test_an_email_belongs_to_the_person_named_before_it():
    ev = evidence(PASSAGE, [0.84, 0.85])
    question = analyse("What is his email?")
    assert shown(read_passage(question, ev, referent="Oyunbileg Rentsendorj")) == "orentsendorj@iom.int"
    assert read_passage(question, ev, referent="Pär Liljert").span is None


def test_a_question_restating_a_name_is_not_answered_by_it():
    ev = evidence("Le bureau de Mongolie a ouvert à Oulan-Bator.", [0.9])
    assert shown(read_passage(analyse("Where is the office of Mongolia?"), ev), ev.text) == "Oulan-Bator"


def test_an_open_question_is_answered_by_its_sentence_here():
    """(its words are pointed at later, in the best passage only: qa.extractor)"""
    text = (
        "Le bureau a ouvert en 2012. Depuis 1992, des étrangers, attirés par les mines de Gobi, viennent en Mongolie."
    )
    found = read_passage(analyse("Why do foreigners come to Mongolia?"), evidence(text, [0.2, 0.9]))
    assert found.sentence == 1 and found.span is None


SPOKEN_FOR = (
    "S’exprimant au nom du Directeur général de l’OIM, António Vitorino, la Directrice régionale pour l’Europe "
    "de l’Est, Argentina Szabados a salué le rôle du Mouvement."
)


def test_the_person_on_whose_behalf_someone_speaks_is_not_who_spoke():
    ev = evidence(SPOKEN_FOR, [0.9])
    for question in ("Who represented IOM at the summit?", "Qui a pris la parole au sommet ?"):
        assert shown(read_passage(analyse(question), ev), SPOKEN_FOR) == "Argentina Szabados"


def test_asked_on_whose_behalf_the_person_spoken_for_may_answer():
    found = candidate_spans(analyse("Au nom de qui a-t-elle parlé ?"), SPOKEN_FOR, ((0, len(SPOKEN_FOR)),))
    assert "António Vitorino" in [SPOKEN_FOR[s.start : s.end] for s in found]
    found = candidate_spans(analyse("Qui a parlé ?"), SPOKEN_FOR, ((0, len(SPOKEN_FOR)),))
    assert "António Vitorino" not in [SPOKEN_FOR[s.start : s.end] for s in found]


DEPUTY = (
    "« Notre but est d’informer », a déclaré Tomasz Wierzbicki, chef de mission de l’OIM au Niger. La campagne "
    "sera coordonnée par la cheffe de mission adjointe de l’OIM au Niger, Ramatou Issaka Maïga, avec le Ministère."
)


def candidates(question: str, text: str) -> list[str]:
    found = candidate_spans(analyse(question), text, tuple(split_sentences(text)))
    return [text[s.start : s.end] for s in found if s.kind == "person"]


def test_a_deputy_is_not_the_chief_unless_the_question_asks_for_a_deputy():
    chief = candidates("Qui est le chef de mission de l’OIM au Niger ?", DEPUTY)
    assert any(c.startswith("Tomasz Wierzbicki") for c in chief) and "Ramatou Issaka Maïga" not in chief
    assert "Ramatou Issaka Maïga" in candidates("Who is IOM's deputy chief of mission in Niger?", DEPUTY)
    # a deputy named after someone does not make them a deputy
    after = "Tomasz Wierzbicki et la cheffe adjointe Ramatou Issaka Maïga ont ouvert la campagne."
    assert "Tomasz Wierzbicki" in candidates("Qui a ouvert la campagne ?", after)
