"""Each article's date: its dateline's, else its file's metadata; never the file's modification time."""

import datetime as dt
import gzip
import hashlib
import io
import json
import os

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from qa.ingest import load_corpus
from qa.ingest.collection import record_hash
from qa.ingest.dates import DateRange, dateline_date, metadata_date, parse_day
from qa.ingest.html import html_document
from qa.ingest.pdf import pdf_document
from qa.ingest.text import clean_document

from .conftest import ROOT, SEED_CORPUS
from .made_files import make_html


@pytest.mark.parametrize(
    "opening, date",
    [
        ("Oulan-Bator, 21 mai 2013 – L'OIM a organisé", "2013-05-21"),
        ("Mauritanie - Le 14 mars 2017 - L'OIM a ouvert", "2017-03-14"),
        ("Astana, 21 May 2015 – Ministers and senior officials", "2015-05-21"),
        ("N’Djamena – 22 février 2016 – L’OIM a achevé", "2016-02-22"),
        ("Djibouti – Le 12 octobre 2016 – L’OIM a inauguré", "2016-10-12"),
        ("Genève, 1er juin 2016 (OIM) – Le Groupe", "2016-06-01"),
        ("Washington, March 14, 2017 – IOM today", "2017-03-14"),
        ("Ginebra, 14 de marzo de 2017 – La OIM", "2017-03-14"),
        ("Berlin, 14. März 2017 – Die IOM", "2017-03-14"),
        ("Achgabat, 3 Mai 2016 — L’OIM", "2016-05-03"),
        ("Lomé, 5 déc. 2018 - Le Gouvernement", "2018-12-05"),
        ("14 août 2017\nL'OIM a ouvert", "2017-08-14"),  # the date alone on the first line
    ],
)
def test_datelines_in_french_english_spanish_and_german(opening, date):
    assert dateline_date(opening) == date


@pytest.mark.parametrize(
    "opening",
    [
        "Mongolie - En coopération avec le Ministère des affaires étrangères",  # the seed articles: no date
        "L'OIM a organisé le 14 mars 2017 une réunion à Nouakchott.",  # a date in a sentence, not a dateline
        "Ingrid Solvang le dirige depuis le 3 mars 2024.",
        "Nouakchott, 31 février 2017 – L'OIM",  # no such day
        "Nouakchott, 14 brumaire 2017 – L'OIM",  # no such month
        "Le bureau a ouvert. Nouakchott, 14 mars 2017 – L'OIM",  # not at the start
    ],
)
def test_what_is_not_a_dateline(opening):
    assert dateline_date(opening) is None


@pytest.mark.parametrize(
    "value, date",
    [
        ("2017-03-14", "2017-03-14"),
        ("2017-03-14T09:30:00+01:00", "2017-03-14"),
        ("D:20170314093000+01'00'", "2017-03-14"),
        ("14 mars 2017", "2017-03-14"),
        ("March 14, 2017", "2017-03-14"),
        (dt.date(2017, 3, 14), "2017-03-14"),
        (dt.datetime(2017, 3, 14, 9, 30), "2017-03-14"),
        ("2017-13-40", None),
        ("soon", None),
        (20170314, None),
        (None, None),
    ],
)
def test_metadata_dates(value, date):
    assert metadata_date(value) == date


def test_the_growth_articles_are_dated_by_their_datelines_and_the_seeds_have_none():
    growth = {d.doc_id: d.date for d in load_corpus(ROOT / "eval" / "growth").documents}
    assert len(growth) == 24 and all(growth.values())
    assert growth["100_ff9fdfc7c6d8916c.txt"] == "2017-03-14"  # "Nouakchott, 14 March 2017 –"
    assert growth["102_3efa6437328e13a2.txt"] == "2016-02-22"  # "N’Djamena – 22 février 2016 –"
    assert growth["107_8f0b98945c5cf1ab.txt"] == "2016-10-12"  # "Djibouti – Le 12 octobre 2016 –"
    assert growth["116_61894adf8ed3249a.txt"] == "2015-05-21"  # "Astana, 21 May 2015 –"
    assert [d.date for d in load_corpus(SEED_CORPUS).documents] == [None] * 5


def test_a_text_article_is_dated_by_its_dateline_after_the_title_and_the_menu(tmp_path):
    menu = "Menu\nAccueil\nContact\n"
    (tmp_path / "a.txt").write_text(
        menu + "L'OIM ouvre un bureau\nNouakchott, 14 mars 2017 – L'OIM a ouvert un bureau.\n", encoding="utf-8"
    )
    (tmp_path / "b.txt").write_text(
        menu + "Atelier au Caire\nLe Caire – Un atelier a réuni 40 policiers le 3 mai 2016.\n", encoding="utf-8"
    )
    old = dt.datetime(2001, 9, 9).timestamp()
    os.utime(tmp_path / "b.txt", (old, old))  # the file's time is never its date
    dates = {d.doc_id: d.date for d in load_corpus(tmp_path).documents}
    assert dates == {"a.txt": "2017-03-14", "b.txt": None}


def test_a_date_changes_the_hash_and_an_article_without_one_keeps_its_hash():
    undated = "Titre\nLe Caire – Un atelier a réuni 40 policiers.\n"
    assert clean_document("a.txt", undated).content_hash == hashlib.sha256(undated.encode()).hexdigest()
    dated = "Titre\nLe Caire, 3 mai 2016 – Un atelier a réuni 40 policiers.\n"
    doc = clean_document("a.txt", dated)
    assert doc.date == "2016-05-03"
    assert doc.content_hash != hashlib.sha256(dated.encode()).hexdigest()  # read again by an older index


def test_a_record_is_dated_by_its_dateline_else_its_date_field(tmp_path):
    records = [
        {"_id": "a", "text": "Dakar - Le 3 juin 2016 - Le réseau a clôturé sa réunion.", "date": "2020-01-01"},
        {"_id": "b", "text": "Le réseau a clôturé sa réunion à Dakar.", "date": "2016-06-03T10:00:00Z"},
        {"_id": "c", "text": "Le réseau a clôturé sa réunion à Dakar.", "date": "bientôt"},
        {"_id": "d", "text": "Le réseau a clôturé sa réunion à Dakar."},
    ]
    with gzip.open(tmp_path / "c.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    dates = {d.doc_id.split("#")[1]: d.date for d in load_corpus(tmp_path).documents}
    assert dates == {"a": "2016-06-03", "b": "2016-06-03", "c": None, "d": None}
    line = json.dumps(records[3]).encode()
    assert record_hash(line) == hashlib.sha256(b"record\0" + line).hexdigest()  # undated records keep their hash
    dated = json.dumps(records[1]).encode()
    assert record_hash(dated) != hashlib.sha256(b"record\0" + dated).hexdigest()


def test_a_saved_page_is_dated_by_its_dateline_else_its_metadata():
    paragraphs = ["L'OIM a ouvert un centre à Agadez.", "Il accueille 400 personnes."]
    assert html_document("p.html", make_html("Un centre à Agadez", "2024-03-12", paragraphs)).date == "2024-03-12"
    dated = ["Agadez, 9 janvier 2024 – L'OIM a ouvert un centre à Agadez.", *paragraphs[1:]]
    assert html_document("p.html", make_html("Un centre à Agadez", "2024-03-12", dated)).date == "2024-01-09"


def pdf_of(lines: list[str], created: str) -> bytes:
    """A one-page PDF of these lines whose metadata gives ``created`` as its creation date."""
    from pypdf import PdfReader, PdfWriter

    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=A4)
    for i, line in enumerate(lines):
        sheet.drawString(72, 800 - 20 * i, line)
    sheet.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(out.getvalue())))
    writer.add_metadata({"/CreationDate": created})
    written = io.BytesIO()
    writer.write(written)
    return written.getvalue()


def test_a_pdf_is_dated_by_its_dateline_else_its_creation_date():
    body = ["Un bureau à Nouadhibou", "L'OIM a ouvert un bureau.", "Il emploie douze personnes."]
    assert pdf_document("a.pdf", pdf_of(body, "D:20170314093000+01'00'")).date == "2017-03-14"
    dated = [body[0], "Nouakchott, 2 avril 2017 – L'OIM a ouvert un bureau.", body[2]]
    assert pdf_document("a.pdf", pdf_of(dated, "D:20170314093000+01'00'")).date == "2017-04-02"


def test_date_ranges_take_days_and_leave_out_articles_without_a_date():
    assert DateRange.of(None, None) is None
    within = DateRange.of("2016-01-01", "2016-12-31")
    assert within is not None and within.holds("2016-06-03") and within.holds("2016-12-31")
    assert not within.holds("2017-01-01") and not within.holds(None)
    since = DateRange.of("2016-1-1", None)
    assert since == DateRange("2016-01-01", None) and since.holds("2030-01-01")
    with pytest.raises(ValueError, match="not a date of the form YYYY-MM-DD: '14/03/2017'"):
        DateRange.of("14/03/2017", None)
    with pytest.raises(ValueError, match="no day is both since 2017-01-01 and until 2016-01-01"):
        DateRange.of("2017-01-01", "2016-01-01")
    with pytest.raises(ValueError, match="not a date"):
        parse_day("2017-02-30")
