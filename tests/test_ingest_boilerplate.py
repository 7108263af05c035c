"""Site boilerplate: learned per site, removed at the edges of files only."""

import shutil

import pytest

from qa.ingest import load_corpus
from qa.ingest.boilerplate import BoilerplateReport, find_boilerplate

NAV = ["Qui sommes nous", "Structure organisationnelle", "Engagez-vous", "2030 AGENDA"]

# Six notes from elsewhere, of different shapes: Markdown, plain, hard-wrapped,
# English, one line, and two dispatches of another site with their own header and footer.
OTHER_SITE_HEADER = "AGENCE INFO\nAccueil | Monde | Économie | Culture\nAbonnez-vous à la lettre\n-----\n"
OTHER_SITE_FOOTER = "-----\n© Agence Info 2024\nTous droits réservés\nMentions légales\n"
NOTES = {
    "notes/reunion.md": "# Compte rendu de la réunion du 3 mai\n\nParticipants : Anne.\n\n- budget\n- calendrier\n",
    "blog/chaleur.txt": "Heatwave hits southern Europe\nTemperatures above 40 degrees were\nrecorded in Seville.\n",
    "notes/bibliotheque.txt": "Rappel : la bibliothèque ferme à 18 h.\n",
    "meteo.md": "Bulletin météo du jour\n\nDemain, pluie sur la Bretagne et soleil dans le Sud.\n",
    "agence/depeche1.txt": OTHER_SITE_HEADER
    + "Le port de Marseille bat un record\nLe trafic a progressé de 8 % en 2023.\n"
    + OTHER_SITE_FOOTER,
    "agence/depeche2.txt": OTHER_SITE_HEADER
    + "Grève des contrôleurs aériens\nPlusieurs vols sont annulés à Orly.\n"
    + OTHER_SITE_FOOTER,
}
NOTE_TITLES = {
    "notes/reunion.md": "Compte rendu de la réunion du 3 mai",
    "blog/chaleur.txt": "Heatwave hits southern Europe",
    "notes/bibliotheque.txt": "Rappel : la bibliothèque ferme à 18 h.",
    "meteo.md": "Bulletin météo du jour",
    "agence/depeche1.txt": "Le port de Marseille bat un record",
    "agence/depeche2.txt": "Grève des contrôleurs aériens",
}


@pytest.fixture(scope="module")
def seeds_alone(seed_corpus):
    return {d.doc_id: d for d in load_corpus(seed_corpus).documents}


def write(folder, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def test_mixed_corpus_keeps_the_seed_titles_and_bodies(tmp_path, seed_corpus, seeds_alone):
    shutil.copytree(seed_corpus, tmp_path, dirs_exist_ok=True)
    write(tmp_path, NOTES)
    loaded = load_corpus(tmp_path)
    docs = {d.doc_id: d for d in loaded.documents}
    assert len(docs) == 11
    for doc_id, alone in seeds_alone.items():
        assert docs[doc_id].title == alone.title
        assert docs[doc_id].text == alone.text
        assert docs[doc_id].content_hash == alone.content_hash  # not re-embedded because notes were added
    assert {name: docs[name].title for name in NOTES} == NOTE_TITLES
    for name in ["agence/depeche1.txt", "agence/depeche2.txt"]:
        assert "Abonnez-vous" not in docs[name].text and "Tous droits réservés" not in docs[name].text
    assert docs["agence/depeche1.txt"].text == "Le trafic a progressé de 8 % en 2023."
    assert loaded.boilerplate.groups == 2 and loaded.boilerplate.files == 7


def test_lines_shared_in_article_bodies_stay(tmp_path, seed_corpus, seeds_alone):
    """A quote three articles share, and the same contact line in three of five:
    body text, even though they are in more than half of the site's files."""
    quote = (
        "« La migration est une réalité qui\n"
        "doit être gérée de façon humaine et ordonnée »,\n"
        "a rappelé le Directeur général.\n"
    )
    contact = "Pour plus d'informations, veuillez contacter :\n"
    shutil.copytree(seed_corpus, tmp_path, dirs_exist_ok=True)
    for name in ["000_709937aa28120cef.txt", "001_d937851711d07b3c.txt", "003_ee8f677726f9b71d.txt"]:
        lines = (tmp_path / name).read_text(encoding="utf-8").splitlines(keepends=True)
        lines[33:33] = [quote, contact, "Service de presse, Genève\n"]
        (tmp_path / name).write_text("".join(lines), encoding="utf-8")
    docs = {d.doc_id: d for d in load_corpus(tmp_path).documents}
    for name in ["000_709937aa28120cef.txt", "001_d937851711d07b3c.txt", "003_ee8f677726f9b71d.txt"]:
        assert "La migration est une réalité qui doit être gérée de façon humaine et ordonnée »" in docs[name].text
        assert "Pour plus d'informations, veuillez contacter :" in docs[name].text
        assert docs[name].title == seeds_alone[name].title


def test_a_shared_opening_paragraph_after_the_title_stays(tmp_path, seed_corpus, seeds_alone):
    shutil.copytree(seed_corpus, tmp_path, dirs_exist_ok=True)
    lead = "Genève – Communiqué commun\nde l'OIM et du HCR\npublié ce matin.\n"
    for name in ["000_709937aa28120cef.txt", "002_a6e01068dec78fe3.txt", "004_7c3d90763c57cd89.txt"]:
        lines = (tmp_path / name).read_text(encoding="utf-8").splitlines(keepends=True)
        lines.insert(30, lead)  # right after the title
        (tmp_path / name).write_text("".join(lines), encoding="utf-8")
    docs = {d.doc_id: d for d in load_corpus(tmp_path).documents}
    for name in ["000_709937aa28120cef.txt", "002_a6e01068dec78fe3.txt", "004_7c3d90763c57cd89.txt"]:
        assert docs[name].title == seeds_alone[name].title
        assert docs[name].text.startswith("Genève – Communiqué commun de l'OIM et du HCR publié ce matin.")


def test_a_footer_shared_by_a_site_is_removed():
    footer = "\nPartager sur Facebook\nPartager sur X\nRetour en haut de page\n"
    texts = [f"Titre {i}\nUne phrase numéro {i}.\n{footer}" for i in range(3)]
    removed, report = find_boilerplate(texts)
    assert removed == [frozenset({3, 4, 5})] * 3
    assert report == BoilerplateReport(lines=3, files=3, groups=0)  # sites are told by their headers
    assert report.summary() == "removed 3 boilerplate lines from 3 files"


def test_identical_copies_and_lone_files_lose_nothing():
    text = "Menu\nAccueil\nContact\nTitre\nUne phrase.\n"
    assert find_boilerplate([text]) == ([frozenset()], BoilerplateReport())
    removed, report = find_boilerplate([text, text])
    assert removed == [frozenset(), frozenset()] and report.summary() == "no site boilerplate found"


def test_a_site_of_two_files_among_many_others():
    header = "Menu\nAccueil\nContact\n"
    others = [f"Note {i}\nTexte {i}.\nSuite {i}.\n" for i in range(20)]
    removed, report = find_boilerplate([header + "Titre A\nTexte A.\n", header + "Titre B\nTexte B.\n", *others])
    assert removed[:2] == [frozenset({0, 1, 2})] * 2
    assert not any(removed[2:])
    assert report.groups == 1


def test_one_file_corpus_keeps_everything(tmp_path, seed_corpus):
    shutil.copy(seed_corpus / "001_d937851711d07b3c.txt", tmp_path)
    loaded = load_corpus(tmp_path)
    [doc] = loaded.documents
    assert doc.title == "Qui sommes nous"  # nothing to learn the navigation from
    assert loaded.boilerplate.lines == 0


@pytest.mark.parametrize("joiner", ["", "\n"])  # the update on the last line, or on a line of its own
def test_a_near_copy_of_an_article_does_not_make_it_boilerplate(tmp_path, seed_corpus, seeds_alone, joiner):
    """An article saved twice (the second time with an update line) in a small site:
    what the two copies share is the article, not the site's menu."""
    original = "000_709937aa28120cef.txt"
    for name in [original, "002_a6e01068dec78fe3.txt"]:
        shutil.copy(seed_corpus / name, tmp_path)
    text = (seed_corpus / original).read_text(encoding="utf-8")
    (tmp_path / "000_update.txt").write_text(text + joiner + "Mise à jour : le dialogue est reporté.", encoding="utf-8")
    docs = {d.doc_id: d for d in load_corpus(tmp_path).documents}
    for name in [original, "000_update.txt"]:
        assert docs[name].title == seeds_alone[original].title
        assert docs[name].text.startswith(seeds_alone[original].text)
    assert docs["002_a6e01068dec78fe3.txt"].text == seeds_alone["002_a6e01068dec78fe3.txt"].text


def test_a_footer_common_to_several_sites_does_not_dilute_their_menus():
    """Five sites of four files each, all ending with the same sharing buttons: each
    site's menu is in a fifth of the files, and still goes."""
    footer = "Partager sur Facebook\nPartager sur X\nImprimer\n"
    texts = []
    for i in range(20):
        menu = "".join(f"Site {i % 5} rubrique {k}\n" for k in range(4))
        texts.append(f"{menu}Titre {i}\nUne phrase propre à l'article {i}.\nUne autre, {i}.\n{footer}")
    removed, report = find_boilerplate(texts)
    assert removed == [frozenset({0, 1, 2, 3, 7, 8, 9})] * 20
    assert report.groups == 5
