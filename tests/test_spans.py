"""Candidate answers found in French press-release sentences."""

from qa.spans import Span, find_spans, listed_with, looks_like_person, with_role

QUOTE = (
    "« Cette consultation nationale a donné l’opportunité de débattre », a déclaré Pär Liljert, "
    "chef de mission de l’OIM en Mongolie."
)
CONTACT = (
    "Pour plus d'informations, veuillez contacter: Kieran Best OIM Beijing Tel: +86 10 8532 5303, "
    "Ext. 203 E-mail: kgormanbest@iom.int"
)


def spans(text: str, kind: str) -> list[str]:
    return [text[s.start : s.end] for s in find_spans(text) if s.kind == kind]


def test_people_places_and_organisations():
    assert spans(QUOTE, "person") == ["Pär Liljert"]
    assert "Mongolie" in spans(QUOTE, "place") and "OIM" in spans(QUOTE, "organisation")
    text = (
        "La Mme Enkhtuya du Ministère mongol de la justice et des affaires internes a ouvert l'atelier "
        "avec M. Badre Eddine Allali."
    )
    assert spans(text, "person") == ["Mme Enkhtuya", "M. Badre Eddine Allali"]
    assert spans(text, "organisation") == ["Ministère mongol de la justice et des affaires internes"]


def test_a_contact_block_splits_into_person_phone_and_email():
    assert spans(CONTACT, "person") == ["Kieran Best"]
    assert spans(CONTACT, "phone") == ["+86 10 8532 5303, Ext. 203"]
    assert spans(CONTACT, "email") == ["kgormanbest@iom.int"]
    assert not [n for n in spans(CONTACT, "number") if n in "+86 10 8532 5303"]  # no counts inside a phone number


def test_dates_counts_and_durations():
    text = (
        "L'OIM a invité les PCR à se réunir au Caire les 21 et 22 octobre. Plus de 70 hauts fonctionnaires "
        "de 15 PCR y ont assisté pendant trois jours."
    )
    assert spans(text, "date") == ["21 et 22 octobre"]
    assert {"Plus de 70 hauts fonctionnaires", "15 PCR"} <= set(spans(text, "number"))
    assert spans(text, "duration") == ["trois jours"]
    assert spans("Une quarantaine de responsables ont participé à un atelier.", "number") == [
        "Une quarantaine de responsables"
    ]


def test_at_least_one_is_not_a_count():
    text = "Aujourd’hui, 18 PCR sont actifs et plus de 160 pays sont membres d’au moins un PCR."
    assert spans(text, "number") == ["18 PCR", "plus de 160 pays"]
    assert spans("Plus d’un million de migrants sont rentrés.", "number") == ["Plus d’un million de migrants"]
    assert spans("Au moins deux pays ont signé.", "number") == ["Au moins deux pays"]


def test_roles_and_what_acronyms_stand_for():
    (person,) = [s for s in find_spans(QUOTE) if s.kind == "person"]
    longer = with_role(QUOTE, person)
    assert QUOTE[longer.start : longer.end] == "Pär Liljert, chef de mission de l’OIM en Mongolie"
    assert spans("« C'est unique », a déclaré le Directeur général de l’OIM, William Lacy Swing.", "role") == [
        "Directeur général de l’OIM"
    ]
    text = "un projet de « renforcement des capacités pour la gestion des migrations en Mongolie » (CBMM Mongolie)."
    assert spans(text, "meaning") == ["renforcement des capacités pour la gestion des migrations en Mongolie"]


def test_what_looks_like_a_person():
    assert looks_like_person("Joe Lowry") and looks_like_person("Oyunbileg Rentsendorj")
    assert not looks_like_person("High-Level Dialogue") and not looks_like_person("IOM Mongolia")


def test_capitalised_words_that_cannot_name_a_person_are_no_person():
    # where only a place can stand, in a list of places, the rest of a longer name, a text's name
    assert spans("The Technical Secretariat is hosted in San José, Costa Rica.", "person") == []
    provinces = "venus de six provinces frontalières : Banteay Meanchey, Battambang, Koh Kong et Svay Rieng."
    assert spans(provinces, "person") == [] and "Svay Rieng" in spans(provinces, "place")
    assert spans("the Regional Network for the Protection of Migrant Children met.", "person") == []
    assert spans("Delegates adopted the Panama Declaration, said Ricaurte Sanjur.", "person") == ["Ricaurte Sanjur"]
    assert not looks_like_person("Traité de Waitangi")
    # a preposition that may come before a person leaves it one
    assert spans("Le prix a été remis à Jean Dupont, puis offert par Marie Curie.", "person") == [
        "Jean Dupont",
        "Marie Curie",
    ]


def test_an_english_name_of_an_organisation_ends_at_its_last_capitalised_word():
    text = "IOM and Sri Lanka’s Ministry of Foreign Employment today brought together 90 participants."
    assert spans(text, "organisation")[-1] == "Sri Lanka’s Ministry of Foreign Employment"
    french = "Le Ministère du Travail et de la Protection sociale a salué l’initiative."
    assert spans(french, "organisation")[0] == "Ministère du Travail et de la Protection sociale"


def test_a_span_takes_in_the_others_of_its_kind_listed_with_it():
    text = "Des experts des Philippines, du Portugal et du Royaume-Uni partageront leur expérience avec Enkhtuya."
    last = text.index("Royaume-Uni")
    listed = listed_with(text, Span(last, last + len("Royaume-Uni"), "place"))
    assert text[listed.start : listed.end] == "Philippines, du Portugal et du Royaume-Uni"
    middle = text.index("Portugal")
    assert listed_with(text, Span(middle, middle + len("Portugal"), "place")) == listed
    alone = "L’OIM au Tadjikistan et le Ministère du Travail ont ouvert deux centres à Khoudjand."
    place = alone.index("Khoudjand")
    span = Span(place, place + len("Khoudjand"), "place")
    assert listed_with(alone, span) == span  # "Tadjikistan" is not listed with it


def test_a_regnal_number_belongs_to_the_name_and_is_no_organisation():
    text = "Le pape Léon III promut l’évêché. En 1328, Andronic III gagna la guerre, puis Louis XV régna."
    assert spans(text, "person") == ["Léon III", "Andronic III", "Louis XV"]
    assert spans(text, "organisation") == []


def test_postal_addresses_in_four_languages():
    text = (
        "OIM, 17 Route des Morillons, CH-1211 Genève 19. Le tram s’arrête avenue Henry-Chéron. "
        "IOM, 1752 N Street NW, Washington. Büro: Hauptstraße 12, Berlin. B.P. 1234 Dakar."
    )
    assert spans(text, "address") == [
        "17 Route des Morillons, CH-1211 Genève",
        "avenue Henry-Chéron",
        "1752 N Street",
        "Hauptstraße 12",
        "B.P. 1234",
    ]
    assert "1211" not in spans(text, "number") and spans("la place Tahrir", "address") == []


def test_a_title_opens_a_name_without_being_part_of_it():
    text = "« Nous le lançons », a déclaré l’Ambassadeur Badre Eddine Allali, Assistant du Secrétaire général."
    assert spans(text, "person") == ["Badre Eddine Allali"]
    assert spans("La Secrétaire Exécutive Marie Curie a parlé.", "person") == ["Marie Curie"]
    assert spans("La Directrice Générale a parlé.", "person") == []
    assert spans("Le Représentant Spécial a parlé.", "person") == []


def test_a_run_of_capitals_over_an_address_is_no_person():
    text = "Pour plus d’informations, veuillez contacter Sushma Gurung OIM Népal 768 Thirbam Sadak, Katmandou"
    people = [text[s.start : s.end] for s in find_spans(text) if s.kind == "person"]
    assert people == ["Sushma Gurung"]


def test_a_role_after_a_country_s_name_is_no_person():
    text = (
        "Panama’s Vice-Minister of Foreign Affairs, Ricaurte Sanjur Ábrego, spoke. Le Vice-Ministre du Travail parla."
    )
    people = [text[s.start : s.end] for s in find_spans(text) if s.kind == "person"]
    assert people == ["Ricaurte Sanjur Ábrego"]
    advisers = "Gonzalo Irarrázaval Mena, IOM Senior Regional Adviser for the Americas, said it."
    assert with_role(advisers, Span(0, 24, "person")).end == advisers.index(", said")


def test_a_sum_takes_in_its_currency_before_and_whose_dollars_after():
    text = "Un appel de 182 millions de dollars américains ; the remittances reached USD 7.2 billion in 2017."
    sums = [text[s.start : s.end] for s in find_spans(text) if s.kind == "number"]
    assert "182 millions de dollars américains" in sums and "USD 7.2 billion" in sums


def test_an_office_s_postal_address_is_what_its_contact_entry_gives_before_the_phone():
    text = (
        "Pour plus d’informations, veuillez contacter Sushma Gurung OIM Népal 768 Thirbam Sadak, Baluwatar, "
        "Katmandou Tel: +977 1 442 6250 Email: sgurung@iom.int ou Kevin Mejía Zelaya OIM Honduras Colonia Lomas "
        "del Guijarro Sur, Calle Madrid, Tegucigalpa Tel: +504 2220 11 00 Email: kmejia@iom.int"
    )
    addresses = [text[s.start : s.end] for s in find_spans(text) if s.kind == "address"]
    # the whole address, not "Calle Madrid" inside it
    assert addresses == [
        "768 Thirbam Sadak, Baluwatar, Katmandou",
        "Colonia Lomas del Guijarro Sur, Calle Madrid, Tegucigalpa",
    ]
    assert not [s for s in find_spans("Oyunbileg Rentsendorj OIM Mongolie Tel: +976 7014 3100") if s.kind == "address"]


def test_a_contact_entry_opens_with_a_name_before_its_office_and_a_country_is_nobody():
    text = "Email: msic@iom.int ou Andrés Quesada Brenes Bureau régional de l’OIM à San José Tel: +506 2212 53 47"
    people = [text[s.start : s.end] for s in find_spans(text) if s.kind == "person"]
    assert "Andrés Quesada Brenes" in people
    bank = "la Banque mondiale ou Asian Development Bank"  # "ou" alone opens no contact entry
    assert not [s for s in find_spans(bank) if s.kind == "person"]
    assert not [s for s in find_spans("Ses bureaux au Costa Rica et au Viet Nam.") if s.kind == "person"]
    assert not looks_like_person("Faxnummer des IOM-Büros") and looks_like_person("Jean-Pierre Dupont")


def test_a_month_alone_and_a_century_are_dates():
    text = "Le tour se déroule en avril ; l’infanterie lourde disparaît au IIIe siècle, in the 19th century."
    dates = [text[s.start : s.end] for s in find_spans(text) if s.kind == "date"]
    assert dates == ["en avril", "au IIIe siècle", "in the 19th century"]
    dated = "en avril 2017"
    assert [dated[s.start : s.end] for s in find_spans(dated) if s.kind == "date"] == ["avril 2017"]
