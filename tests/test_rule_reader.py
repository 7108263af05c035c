"""The reader on made-up passages: the right sentence, the right span, and whose email it is."""

import re

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
    whole = evidence(SPOKEN_FOR, [0.9])
    found = candidate_spans(analyse("Au nom de qui a-t-elle parlé ?"), whole, sentences=((0, len(SPOKEN_FOR)),))
    assert "António Vitorino" in [SPOKEN_FOR[s.start : s.end] for s in found]
    found = candidate_spans(analyse("Qui a parlé ?"), whole, sentences=((0, len(SPOKEN_FOR)),))
    assert "António Vitorino" not in [SPOKEN_FOR[s.start : s.end] for s in found]


DEPUTY = (
    "« Notre but est d’informer », a déclaré Tomasz Wierzbicki, chef de mission de l’OIM au Niger. La campagne "
    "sera coordonnée par la cheffe de mission adjointe de l’OIM au Niger, Ramatou Issaka Maïga, avec le Ministère."
)


def candidates(question: str, text: str) -> list[str]:
    found = candidate_spans(analyse(question), evidence(text, [0.5] * len(split_sentences(text))))
    return [text[s.start : s.end] for s in found if s.kind == "person"]


def test_a_deputy_is_not_the_chief_unless_the_question_asks_for_a_deputy():
    chief = candidates("Qui est le chef de mission de l’OIM au Niger ?", DEPUTY)
    assert any(c.startswith("Tomasz Wierzbicki") for c in chief) and "Ramatou Issaka Maïga" not in chief
    deputy = candidates("Who is IOM's deputy chief of mission in Niger?", DEPUTY)
    assert "Ramatou Issaka Maïga" in deputy and not any(c.startswith("Tomasz Wierzbicki") for c in deputy)
    # asked for a deputy where only the chief is named: nobody
    chief_only = "Tomasz Wierzbicki, chef de mission de l’OIM au Niger, a ouvert la campagne."
    assert candidates("Qui est le chef de mission adjoint de l’OIM au Niger ?", chief_only) == []
    # a deputy named after someone does not make them a deputy
    after = "Tomasz Wierzbicki et la cheffe adjointe Ramatou Issaka Maïga ont ouvert la campagne."
    assert "Tomasz Wierzbicki" in candidates("Qui a ouvert la campagne ?", after)


CONTACTS = (
    "Pour plus d’informations, veuillez contacter Joe Lowry, Bureau régional de l’OIM pour l’Europe du Sud-Est, "
    "Tel: +43 660 3776404, Email : jlowry@iom.int ou Emanuela Muscara, OIM Mongolie, Email: emuscara@iom.int, "
    "Tel: +976 70143100, Fax: +976 70143101."
)


def contact_candidates(question: str) -> list[str]:
    found = candidate_spans(analyse(question), evidence(CONTACTS, [0.5]))
    return [CONTACTS[s.start : s.end] for s in found if s.kind in ("phone", "email")]


def test_a_contact_answers_for_the_office_its_entry_names():
    assert contact_candidates("What is the phone number of the IOM office in Mongolia?") == [
        "+976 70143100",
        "+976 70143101",
    ]
    assert contact_candidates("What is the phone number of the IOM office in Cairo?") == []
    assert contact_candidates("Quel est le courriel de l’OIM Mongolie ?") == ["emuscara@iom.int"]
    # no office asked about: every contact may answer
    assert "+43 660 3776404" in contact_candidates("What phone number should I call?")


def test_a_fax_number_is_one_the_article_calls_a_fax():
    assert contact_candidates("What is the fax number of the IOM office in Mongolia?") == ["+976 70143101"]
    assert contact_candidates("Quel est le numéro de fax de l’OIM à Oulan-Bator ?") == []


SUMMIT = (
    "Le sommet s’est tenu à Bakou, en Azerbaïdjan. Il a réuni 120 Etats membres et des observateurs, "
    "a déclaré l’Organisation des Nations Unies."
)


def test_which_country_is_answered_by_a_country_only():
    found = candidate_spans(analyse("Dans quel pays s’est tenu le sommet ?"), evidence(SUMMIT, [0.5, 0.5]))
    assert [SUMMIT[s.start : s.end] for s in found] == ["Azerbaïdjan"]
    found = candidate_spans(analyse("Dans quelle ville s’est tenu le sommet ?"), evidence(SUMMIT, [0.5, 0.5]))
    assert "Bakou" in [SUMMIT[s.start : s.end] for s in found]


def test_the_holder_of_a_role_is_a_person_not_an_organisation():
    text = "Le sommet était présidé par l’Organisation des Nations Unies, a déclaré Ilham Aliyev."
    for question, wanted in (("Qui a présidé le sommet ?", ["person"]), ("Qui a parlé ?", ["organisation", "person"])):
        found = candidate_spans(analyse(question), evidence(text, [0.5]))
        assert sorted({s.kind for s in found}) == wanted


def test_an_acronym_of_the_question_in_another_language_restates_it():
    text = "La réunion a été organisée par l’OIM et la Ligue des Etats arabes (LEA) au Caire."
    question = analyse("Which organisation hosted the meeting together with IOM?")
    found = [text[s.start : s.end] for s in candidate_spans(question, evidence(text, [0.5]))]
    assert "OIM" not in found and "LEA" in found


def test_an_assistant_is_not_who_holds_the_role_but_may_have_spoken():
    text = "« Nous le lançons », a déclaré l’Ambassadeur Badre Eddine Allali, Assistant du Secrétaire général."
    assert "Badre Eddine Allali" not in candidates("Who is the Secretary-General of the Arab League?", text)
    assert "Badre Eddine Allali" in candidates("Who spoke for the Arab League?", text)


def test_a_count_under_the_acronym_of_what_is_asked_counts_it():
    text = "Aujourd’hui, 18 PCR sont actifs et plus de 160 pays appartiennent à au moins un PCR."
    found = read_passage(analyse("How many regional consultative processes are active today?"), evidence(text, [0.8]))
    assert shown(found, text) == "18 PCR" and found.affinity == 1.0


def test_who_spoke_on_behalf_of_someone_is_found_where_the_sentence_says_so():
    text = (
        "S’exprimant au nom du Directeur général de l’OIM, la Directrice de la Division migration et santé, "
        "Dr Ingrid Halvorsen, a rappelé l’enjeu. L’Ambassadeur Jorge Altamirano, président du GIMS, a présenté "
        "le rapport annuel."
    )
    assert candidates("Who spoke on behalf of IOM's Director General at the meeting?", text) == ["Dr Ingrid Halvorsen"]
    assert "Jorge Altamirano" in candidates("Who presented the annual report?", text)


def test_a_measure_is_matched_with_the_words_before_it_a_count_with_its_own():
    from qa.embed import Pieces
    from qa.rerank import TokenMatch
    from qa.rule_reader import QuestionParts

    text = "Le dispositif, d’un budget de 2,3 millions de dollars, est financé par ECHO."
    words = list(re.finditer(r"\w+", text))
    budget = [n for n, w in enumerate(words) if w.group() == "budget"]
    similarities = np.zeros((1, len(words)))  # one question piece, the one naming what is asked: "budget"
    similarities[0, budget] = 1.0
    ends = np.array([w.end() for w in words], dtype=np.int32)
    pieces = Pieces(np.arange(len(words), dtype=np.int32), np.eye(len(words), dtype=np.float32), ends)
    match = TokenMatch(0.9, np.array([0.9]), similarities, np.ones(1), ends, pieces)
    for question, measured, affinity in [
        ("What is the budget of the new response?", True, 1.0),
        ("How many budget lines does the response have?", False, 0.0),
    ]:
        parts = QuestionParts(focus=np.array([True]), measured=measured)
        sentences = tuple(split_sentences(text))
        found = read_passage(analyse(question), Evidence(text, sentences, np.array([0.8]), match, parts))
        assert shown(found, text) == "2,3 millions de dollars" and found.affinity == affinity
    assert analyse("What is the budget of the new response?").measures
    assert not analyse("How many budget lines does the response have?").measures


def test_the_start_of_a_period_is_not_its_end_nor_the_other_way():
    text = "Le projet se déroulera du 1er avril 2017 au 31 mars 2019 avec le ministère."

    def dates(question: str) -> list[str]:
        found = candidate_spans(analyse(question), evidence(text, [0.5]))
        return [text[s.start : s.end] for s in found if s.kind == "date"]

    assert dates("À quelle date commence le projet ?") == ["1er avril 2017"]
    assert dates("When does the project end?") == ["31 mars 2019"]
    assert dates("Quand le projet se déroulera-t-il ?") == ["1er avril 2017", "31 mars 2019"]


def test_who_spoke_on_behalf_of_someone_is_not_the_one_spoken_for():
    whole = ((0, len(SPOKEN_FOR)),)
    found = candidate_spans(analyse("Who spoke on behalf of IOM's Director General?"), evidence(SPOKEN_FOR, [0.9]))
    people = [SPOKEN_FOR[s.start : s.end] for s in found if s.kind == "person"]
    assert "Argentina Szabados" in people and "António Vitorino" not in people
    asked = candidate_spans(analyse("On whose behalf did she speak?"), evidence(SPOKEN_FOR, [0.9]), sentences=whole)
    assert [SPOKEN_FOR[s.start : s.end] for s in asked if s.kind == "person"] == ["António Vitorino"]


def test_a_chief_of_another_country_does_not_lead_the_office_asked_about():
    text = "« Partir informé », a déclaré Dominik Reiter, chef de mission de l’OIM au Laos, à Vientiane."
    assert candidates("Qui dirige l’OIM en Thaïlande ?", text) == []
    assert candidates("Qui dirige l’OIM au Laos ?", text) == ["Dominik Reiter, chef de mission de l’OIM au Laos"]


ROLES = (
    "Accompagné par le chef de mission de l’OIM au Bangladesh, Giorgio Benassi, M. Nyholm a visité le site. "
    "Les opérations sont coordonnées par la cheffe du sous-bureau de l’OIM à Cox’s Bazar, Nusrat Jahan Chowdhury. "
    "Speaking on behalf of IOM Director General António Vitorino, Gonzalo Irarrázaval Mena, IOM Senior Regional "
    "Adviser for the Americas, said the process had worked. "
    "« Nous avons quelques semaines », a déclaré M. Irarrázaval Mena."
)


def test_a_person_in_another_role_does_not_hold_the_role_asked():
    # the head of a sub-office does not lead the country's office; the chief of mission does
    leads = candidates("Qui dirige l’OIM au Bangladesh ?", ROLES)
    assert "Giorgio Benassi" in leads and "Nusrat Jahan Chowdhury" not in leads
    # an adviser is no regional director, here or where the passage quotes him without his role
    assert not any("Irarrázaval" in c for c in candidates("Who is IOM's Regional Director for South America?", ROLES))
    assert any("Irarrázaval" in c for c in candidates("Who is IOM's Senior Regional Adviser?", ROLES))
    # a director general is no regional director, nor the other way
    assert "António Vitorino" not in candidates("Who is IOM's Regional Director?", ROLES)
    # who chaired or opened is not asked by title: a person of any role may answer
    assert "Nusrat Jahan Chowdhury" in candidates("Qui coordonne les opérations à Cox’s Bazar ?", ROLES)


def test_a_vice_minister_is_no_person_s_name_and_no_chief():
    text = "Panama’s Vice-Minister of Foreign Affairs, Ricaurte Sanjur Ábrego, who chaired the meeting, spoke."
    assert candidates("Who is IOM's chief of mission in Panama?", text) == []
    assert candidates("Who chaired the meeting?", text) == ["Ricaurte Sanjur Ábrego"]


def test_when_a_period_ends_is_its_last_day_not_the_dateline():
    text = (
        "Ciudad de Guatemala, 28 septembre 2017 – L’OIM a réuni 38 agents pour un atelier de trois jours, "
        "du 25 au 27 septembre."
    )

    def dates(question: str) -> list[str]:
        found = candidate_spans(analyse(question), evidence(text, [0.5]))
        return [text[s.start : s.end] for s in found if s.kind == "date"]

    assert dates("On what day did the workshop end?") == ["27 septembre"]
    assert dates("When did the workshop start?") == ["25 au 27 septembre"]
    assert "28 septembre 2017" in dates("When did IOM bring the agents together?")


def test_a_role_of_another_country_is_another_role():
    text = (
        "La réunion a été ouverte par l’Ambassadeur indonésien Hendra Wiratmaja et l’Ambassadrice australienne, "
        "Claire Whitfield."
    )
    assert candidates("Wer ist die australische Botschafterin?", text) == ["Claire Whitfield"]
    assert candidates("Who is the Indonesian ambassador?", text) == ["Hendra Wiratmaja"]


def test_a_phone_in_a_contact_entry_is_its_first_person_s():
    text = (
        "Pour plus d’informations, veuillez contacter Farhana Islam OIM Cox’s Bazar Tel: +880 341 52 740 "
        "Email: fislam@iom.int ou Andrés Quesada Brenes Bureau régional de l’OIM à San José Tel: +506 2212 53 47"
    )
    phones = candidate_spans(analyse("What is her phone number?"), evidence(text, [0.5]), referent="Farhana Islam")
    assert [text[s.start : s.end] for s in phones] == ["+880 341 52 740"]
    emails = candidate_spans(analyse("What is his phone?"), evidence(text, [0.5]), referent="Andrés Quesada Brenes")
    assert [text[s.start : s.end] for s in emails] == ["+506 2212 53 47"]
