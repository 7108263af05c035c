"""Names across languages: countries by name or adjective, the quick check against one country, and names
written otherwise."""

import pytest

from qa.names import countries_asked, countries_in, names_country, written_in

TEXTS = [
    "L’OIM au Tchad achève l’enregistrement biométrique de 38 500 retournés.",
    "Les autorités tchadiennes ont ouvert l’atelier à N’Djamena.",
    "IOM Uzbekistan and the national labour agency launched a programme.",
    "Des experts des Philippines, du Portugal et du Royaume-Uni.",
    "La Mongolie est un pays source ; l’Agence mongolienne de l’immigration.",
    "Nigerian and Nigerien officials met in Niamey.",
    "Le palais présidentiel, sans pays nommé.",
    "La réunion a eu lieu hier, puis à La Réunion.",
    "L’OIM au Soudan du Sud a ouvert un bureau à Juba.",  # a country's name inside another's
    "Guinea-Bissau and Equatorial Guinea signed, then Guinea.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_quick_check_of_one_country_agrees_with_every_country_found(text):
    found = countries_in(text)
    for code in ("TD", "UZ", "PH", "PT", "GB", "MN", "NG", "NE", "PW", "FR", "RE", "SD", "SS", "GN", "GW", "GQ"):
        assert names_country(text, code) is (code in found), (code, text)


def test_the_countries_a_question_asks_about():
    assert countries_asked("Who leads IOM in Chad?") == {"TD"}
    assert countries_asked("Qui est le chef de mission de l’OIM en Ouzbékistan ?") == {"UZ"}
    assert countries_asked("Who is the Director General of the Mongolian Immigration Agency?") == {"MN"}
    assert countries_asked("How many Mongolian officials attended?") == frozenset()  # who, not where


def test_a_name_written_otherwise_is_written():
    assert written_in("Cairo", "Le Caire accueille la réunion") and written_in("Baku", "à Bakou")
    assert written_in("IOM", "l’OIM") and not written_in("Geneva", "OIM Beijing")


def test_a_country_is_named_with_its_capitals():
    assert countries_in("La réunion, qui a eu lieu au siège de la LEA, a duré deux jours.") == frozenset()
    assert countries_in("La Réunion est une île.") == {"RE"}
    assert countries_in("les Émirats arabes unis") == {"AE"}  # Babel writes "arabes unis" in lower case
    assert not names_country("La réunion a eu lieu hier.", "RE") and names_country("à La Réunion", "RE")


def test_a_country_s_name_in_one_language_may_be_its_adjective_in_another():
    assert countries_in("l’Ambassadeur indonésien") == {"ID"}  # "Indonesien" is the country, in German
    assert countries_in("die australische Botschafterin, die mongolische Agentur") == {"AU", "MN"}
    assert countries_in("la réunion de Genève") == frozenset()  # a meeting, not La Réunion


def test_a_country_is_written_only_as_itself():
    assert not written_in("Colombo", "OIM Colombie") and not written_in("Niger", "le Nigeria")
    assert written_in("Cairo", "le Caire") and written_in("Mongolia", "OIM Mongolie")
