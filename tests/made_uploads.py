"""Articles of the kinds a newsroom sends, for the upload tests: a Word file and a scanned press release
(an image-only PDF, read by OCR), each answering one question that no other article answers."""

from __future__ import annotations

import io
from pathlib import Path

from qa.library import Received

from .made_files import make_scan

WORD_PARAGRAPHS = [
    "L'OIM forme les garde-côtes de Nouadhibou",
    "Nouadhibou, 9 octobre 2018 – L'OIM a formé 75 garde-côtes mauritaniens au sauvetage en mer.",
    "La formation a été dispensée par Fatimetou Mint Ahmed, experte de l'OIM.",
]
WORD_QUESTION = "Combien de garde-côtes l'OIM a-t-elle formés au sauvetage en mer à Nouadhibou ?"
WORD_ANSWER = "75 garde-côtes"

SCAN_LINES = [
    "L'OIM ouvre un centre de transit à Rosso",
    "Rosso, 14 mars 2017 – L'OIM a ouvert aujourd'hui un centre de",
    "transit pour les migrants de retour à Rosso, en Mauritanie.",
    "Le centre accueillera 1 250 migrants chaque année, a précisé",
    "Anke Strauss, cheffe de mission de l'OIM en Mauritanie.",
]
SCAN_QUESTION = "Combien de migrants le centre de transit de Rosso accueillera-t-il chaque année ?"
SCAN_ANSWER = "1 250"


def make_docx(paragraphs: list[str]) -> bytes:
    """A Word file: a title (Title style), then paragraphs."""
    import docx

    document = docx.Document()
    document.add_heading(paragraphs[0], level=0)
    for paragraph in paragraphs[1:]:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_scanned_pdf(lines: list[str] = SCAN_LINES) -> bytes:
    """An image-only PDF of one page: the text rendered to an image, no text layer (a scanner's PDF)."""
    return make_scan([lines])


def received(tmp_path: Path, files: dict[str, bytes]) -> list[Received]:
    """``files`` (name: bytes) as the chat receives uploads: saved under ``tmp_path``/sent with their names."""
    sent = []
    for name, data in files.items():
        path = tmp_path / "sent" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        sent.append(Received(path, name))
    return sent
