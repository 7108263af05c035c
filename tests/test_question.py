"""What a question asks for, in English, French, German and Spanish."""

import pytest

from qa.question import analyse


@pytest.mark.parametrize(
    "question, kind",
    [
        ("Who leads IOM Mongolia?", "person"),
        ("Qui dirige l'OIM en Mongolie ?", "person"),
        ("Wer leitet die IOM in der Mongolei?", "person"),
        ("¿Quién dirige la OIM en Mongolia?", "person"),
        ("When did the workshop start?", "date"),
        ("Quand l'atelier a-t-il commencé ?", "date"),
        ("Wann begann der Workshop?", "date"),
        ("¿Cuándo empezó el taller?", "date"),
        ("How many officials attended?", "number"),
        ("Combien de PCR étaient représentés ?", "number"),
        ("Wie viele Beamte nahmen teil?", "number"),
        ("¿Cuántos países son observadores?", "number"),
        ("How long did the workshop last?", "duration"),
        ("Where was the meeting held?", "place"),
        ("Où s'est tenue la réunion ?", "place"),
        ("What is his email?", "email"),
        ("Quel est son numéro de téléphone ?", "phone"),
        ("And how can I reach her?", "contact"),
        ("What is her position?", "role"),
        ("Que signifie le sigle CBMM ?", "meaning"),
        ("Which organisation hosted the meeting?", "organisation"),
        ("Why is Mongolia a destination country?", "phrase"),
        ("Qui a déclaré que la consultation orienterait la position de la Mongolie ?", "person"),
    ],
)
def test_the_kind_of_answer_asked_for(question, kind):
    assert analyse(question).expects == kind


def test_names_and_numbers_the_question_is_about():
    q = analyse("Who leads IOM in Senegal since 2019?")
    assert "Senegal" in q.entities and "2019" in q.entities and "IOM" in q.entities
    assert "Who" not in q.entities
    assert analyse("Who leads IOM Mongolia?").leader and not analyse("Who opened the workshop?").leader


def test_contact_questions_are_told_apart():
    assert analyse("Who is the press contact in Cairo?").contact
    assert analyse("Qui faut-il contacter pour en savoir plus ?").contact
    assert not analyse("According to the press release, how many member states did IOM have?").contact


def test_what_a_count_counts():
    assert analyse("How many senior officials attended the meeting?").focus == "senior officials attended"
    assert analyse("Combien de PCR étaient représentés ?").focus == "PCR"
    assert analyse("How long did it last?").focus is None


def test_what_a_measure_question_measures():
    assert analyse("What is the budget of the project?").focus == "budget"
    assert analyse("Quel est le taux de chômage en Mongolie ?").expects == "number"


def test_his_number_asks_for_a_phone():
    assert analyse("Et son numéro ?").expects == "phone"
    assert analyse("What is his number?").expects == "phone"
    assert analyse("Quel est le numéro 1 mondial ?").expects != "phone"


@pytest.mark.parametrize(
    "question, plural",
    [
        ("Which countries do the experts come from?", True),
        ("Quels pays ont envoyé des experts ?", True),
        ("Qui sont les partenaires locaux du projet ?", True),
        ("Which country hosted the summit?", False),
        ("Quel pays a accueilli le sommet ?", False),
        ("Who leads IOM Mongolia?", False),
    ],
)
def test_a_question_asking_for_several_is_told_apart(question, plural):
    assert analyse(question).plural is plural
