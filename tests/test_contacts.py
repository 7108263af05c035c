"""Contact questions on made-up passages: the contact block answers them, and whose email it is."""

import numpy as np

from qa.contacts import Evidence, answered_here, is_contact, read_contacts
from qa.question import analyse
from qa.sentences import split_sentences

PASSAGE = (
    "« Elle permettra d’orienter la position de la Mongolie », a déclaré Pär Liljert, chef de mission de l’OIM en "
    "Mongolie. Pour plus d’informations, veuillez contacter Oyunbileg Rentsendorj OIM Mongolie Tel: +976 7014 3100 "
    "Email: orentsendorj@iom.int"
)


def evidence(text: str, relevance: list[float]) -> Evidence:
    return Evidence(text, tuple(split_sentences(text)), np.array(relevance), None)


def shown(question: str, ev: Evidence, referent: str | None = None) -> str | None:
    span = read_contacts(analyse(question), ev, referent)
    return ev.text[span.start : span.end] if span else None


def test_the_contact_block_answers_contact_questions():
    assert is_contact(PASSAGE[PASSAGE.index("Pour plus") :]) and not is_contact(PASSAGE[: PASSAGE.index("Pour plus")])
    ev = evidence(PASSAGE, [0.86, 0.84])  # the quote matches better: still the contact block answers
    assert shown("Whom should I contact for more information?", ev) == "Oyunbileg Rentsendorj"
    assert shown("What is the phone number?", ev) == "+976 7014 3100"
    assert shown("Quelle est l'adresse e-mail ?", ev) == "orentsendorj@iom.int"


def test_only_contact_questions_and_owned_things_are_read_here():
    assert answered_here(analyse("What is the phone number?"))
    assert answered_here(analyse("Whom should I contact for more information?"))
    assert not answered_here(analyse("Who leads IOM Mongolia?"))
    assert not answered_here(analyse("What is his position?"))
    assert answered_here(analyse("What is his position?"), referent="Pär Liljert")


def test_an_email_belongs_to_the_person_named_before_it():
    ev = evidence(PASSAGE, [0.84, 0.85])
    assert shown("What is his email?", ev, referent="Oyunbileg Rentsendorj") == "orentsendorj@iom.int"
    assert shown("What is his email?", ev, referent="Pär Liljert") is None
    assert shown("What is his phone number?", ev, referent="Pär Liljert") is None


def test_among_several_contacts_the_office_the_question_names_is_nearer():
    text = (
        "Pour plus d'informations, veuillez contacter Jean Dupont, OIM Genève, Tel: +41 22 717 9111 "
        "ou Amira Saleh, OIM Caire, Tel: +20 2 2736 5140"
    )
    ev = evidence(text, [0.8])
    assert shown("Quel est le numéro de téléphone de l'OIM Caire ?", ev) == "+20 2 2736 5140"
    assert shown("Quel est le numéro de téléphone de l'OIM Genève ?", ev) == "+41 22 717 9111"
