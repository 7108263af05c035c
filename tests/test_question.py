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
    assert analyse("Quelle est la part de l’économie informelle ?").expects == "number"
    # a measure a clause names is not what is asked
    assert analyse("Quel événement historique a maintenu un taux de croissance bas ?").expects == "phrase"
    assert analyse("En fonction de quoi sont déterminés les taux d’imposition ?").expects == "phrase"


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


@pytest.mark.parametrize(
    "question, holder",
    [
        ("Who leads IOM Mongolia?", True),
        ("Who chaired the fourth global meeting of RCPs?", True),
        ("Qui a présidé le sommet de Bakou ?", True),
        ("Who is the Secretary-General of the Arab League?", True),
        ("Qui est le nouveau directeur de l'agence ?", True),
        ("Who attended the workshop?", False),
        ("Qui a organisé l'atelier ?", False),
        ("Qui est John Wesley ?", False),
        ("Par qui le président de la région est-il élu ?", False),  # the electors, not the president
        ("Qui est le président de la région ?", True),
    ],
)
def test_a_question_for_the_holder_of_a_role_is_told_apart(question, holder):
    asked = analyse(question)
    assert asked.holder is holder
    assert asked.answering_kinds == (("person",) if holder else ("person", "organisation"))


def test_a_question_asking_which_country_is_told_apart():
    assert analyse("Which country will host the next summit?").country
    assert analyse("Quels pays ont le statut d’observateur ?").country
    assert analyse("Dans quel pays est la Transnistrie ?").country
    assert not analyse("In which city was the meeting held?").country
    assert not analyse("Where was the meeting held?").country


@pytest.mark.parametrize(
    "question, office",
    [
        ("What is the phone number of the IOM office in Cairo?", "Cairo"),
        ("What is the phone number of IOM headquarters in Geneva?", "Geneva"),
        ("Quel est le numéro de poste du contact de l’OIM à Pékin ?", "Pékin"),
        ("Quel est le numéro de téléphone d’Emanuela Muscara à l’OIM Mongolie ?", "Mongolie"),
        ("¿Cuál es el número de fax de la OIM en Mongolia?", "Mongolia"),
        ("Wie lautet die Telefonnummer des IOM-Büros in Peking?", "Peking"),
        ("What is Malika Khodjaeva's phone number?", None),
        ("What is the IOM phone number?", None),
        ("Who leads the IOM office in Cairo?", None),  # no contact question
    ],
)
def test_the_office_a_contact_question_asks_about(question, office):
    assert analyse(question).office == office


def test_an_address_question_is_told_from_the_verb_and_from_an_email():
    assert analyse("Quelle est l'adresse postale du bureau de l'OIM à Oulan-Bator ?").expects == "address"
    assert analyse("What is the postal address of IOM Geneva?").expects == "address"
    assert analyse("Wie lautet die Anschrift der IOM?").expects == "address"
    assert analyse("A qui s'adresse Descartes en 1648 ?").expects == "person"
    assert analyse("Quelle est l’adresse e-mail de Pär Liljert ?").expects == "email"
    assert analyse("What issue did the minister address?").expects == "phrase"


def test_a_german_count_in_the_dative_is_a_count():
    assert analyse("Wie vielen Opfern hat die IOM geholfen?").focus == "Opfern"


def test_addressed_to_someone_is_no_address_question():
    assert analyse("Quelle malédiction prononce-t-il à l’adresse de Philippe le Bel ?").expects != "address"
    assert analyse("A quelle adresse se situe l’arrivée du tram 3 ?").expects == "address"


@pytest.mark.parametrize(
    ("question", "theme"),
    [
        ("Quel était le thème de la réunion du Caire ?", True),
        ("What was the theme of the ROPEM regional meeting in Dakar?", True),
        ("¿Cuál fue el tema de la cumbre?", True),
        ("Was war das Thema des Treffens?", True),
        ("Quel est le thème des oeuvres d'art qui font débat ?", False),  # no meeting: a sentence may answer
        ("What was discussed at the meeting?", False),
    ],
)
def test_a_question_asking_a_meetings_theme(question, theme):
    assert analyse(question).theme is theme


@pytest.mark.parametrize(
    ("question", "bound"),
    [
        ("À quelle date commence le projet ?", "start"),
        ("When did the EU co-funded project in Mongolia start?", "start"),
        ("¿Cuándo comienza el proyecto?", "start"),
        ("On what day did the workshop end?", "end"),
        ("Quand le projet prendra-t-il fin ?", "end"),
        ("Quand a eu lieu la réunion ?", None),
        ("Who started the project?", None),  # no date asked
    ],
)
def test_when_something_starts_or_ends(question, bound):
    assert analyse(question).bound == bound


def test_what_a_sum_measures_is_asked_by_how_much_it_costs_too():
    cost = analyse("How much does IOM's shelter repair programme in Haiti cost?")
    assert cost.expects == "number" and cost.focus == "cost" and cost.measures
    assert analyse("What is the budget of the project?").measures
    assert not analyse("How many budget lines does the response have?").measures


def test_who_holds_a_role_is_asked_with_its_body_s_name_before_it_but_not_on_behalf_of_it():
    assert analyse("Who is IOM's Regional Director for South America?").holder
    assert analyse("Qui est la nouvelle directrice de l’OIM ?").holder
    assert not analyse("Qui s’est exprimé au nom du Ministre de l’Intérieur ?").holder
    assert analyse("Quel est le nom du ministre de l’Intérieur ?").holder


def test_which_countries_hold_a_standing_in_a_body():
    assert analyse("Which countries are observers of the Bali Process?").standing == "observer"
    assert analyse("Quels pays sont membres du Processus de Bali ?").standing == "member"
    assert analyse("Which countries are affected by the floods?").standing is None


def test_a_fax_number_asked_in_german_is_a_phone_of_an_office():
    asked = analyse("Wie lautet die Faxnummer des IOM-Büros in Colombo?")
    assert asked.expects == "phone" and asked.office == "Colombo"


def test_a_word_s_meaning_or_a_telephone_market_asks_no_kind_of_span():
    assert analyse("Que signifie « hongre » en vieux norrois ?").expects == "phrase"
    assert analyse("Que signifie le sigle PCR ?").expects == "meaning"
    assert analyse("Quelle est l’évolution du marché du téléphone fixe en Algérie ?").expects == "phrase"
    assert analyse("Quelle fut la première victime de l'extension de la colonie du Cap ?").expects != "phone"
    assert analyse("What is his extension?").expects == "phone"
    assert analyse("Quel est son numéro de téléphone ?").expects == "phone"
