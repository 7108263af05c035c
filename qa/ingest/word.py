"""Word documents (.docx): paragraphs, headings and tables in reading order, by python-docx.

The *original text* has one line per paragraph of the document's body, empty
paragraphs included, and one line per table row (its cells joined by " | "),
in the order they stand: line N of a citation is paragraph N, counted from
the top of the file. A line break or tab inside a paragraph becomes a space.
The title is the first paragraph with words; the date is the dateline's.

An encrypted file, an old Word file (.doc) named .docx, a zip of other
things and a damaged file are each skipped with the reason.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

from .dates import article_date
from .document import Document, Unusable
from .text import clean_lines

MAX_UNPACKED_BYTES = 200 * 2**20  # what the parts of one .docx may unpack to (a zip bomb is refused)
CELL_SEPARATOR = " | "
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of .doc files, and of encrypted .docx ones
_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029\t]")  # one character each, as str.splitlines
_KINDS = {  # the main part's content type of office files that are not Word documents
    "spreadsheetml": "an Excel workbook",
    "presentationml": "a PowerPoint presentation",
    "template": "a Word template",
}


def extract_docx(data: bytes) -> str:
    """The original text of a .docx file (see the module docstring); raises Unusable."""
    import docx  # imported when a Word file is read: `qa ask` does not need it

    _check_package(data)
    try:
        document = docx.Document(io.BytesIO(data))
        lines = [_line(block) for block in document.iter_inner_content()]
    except Unusable:
        raise
    except ValueError as exc:  # python-docx: "file … is not a Word file, content type is '…'"
        kind = next((k for key, k in _KINDS.items() if key in str(exc)), "another kind of file")
        raise Unusable(f"not a Word document ({kind})") from None
    except Exception as exc:  # lxml, zipfile and python-docx raise many kinds of errors on damaged files
        raise Unusable(f"cannot read the Word file ({type(exc).__name__}: {exc})") from None
    return "\n".join(line for block in lines for line in block)


def _check_package(data: bytes) -> None:
    """Refuse what is not a readable .docx before python-docx opens it, saying what it is."""
    if data.startswith(_OLE):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise Unusable("encrypted Word file (it needs a password)")
        raise Unusable("an old Word file (.doc) or another office file, not a .docx: save it as .docx")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        entries = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise Unusable("not a Word document (not a zip package)") from None
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names:
        shown = ", ".join(sorted(names)[:3]) + (", …" if len(names) > 3 else "")
        raise Unusable(f"not a Word document: a zip of other files ({shown or 'empty'})")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise Unusable(
            f"unpacks to {unpacked / 2**20:.0f} MB, over the {MAX_UNPACKED_BYTES / 2**20:.0f} MB limit of a Word file"
        )


def _line(block) -> list[str]:
    """The lines of a paragraph (one) or a table (one per row; a merged cell once)."""
    from docx.table import Table

    if not isinstance(block, Table):
        return [_BREAKS.sub(" ", block.text)]
    rows = []
    for row in block.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(_BREAKS.sub(" ", cell.text).strip())
        rows.append(CELL_SEPARATOR.join(cells))
    return rows


def docx_document(doc_id: str, data: bytes, path: str | None = None) -> Document:
    """The article of a Word file: its first paragraph with words is the title."""
    source = extract_docx(data)
    cleaned = clean_lines(source, title_lines=1, join_wrapped=False)
    if cleaned is None or not cleaned.text:
        raise Unusable("no text in the Word file besides its title" if cleaned else "no text in the Word file")
    date = article_date(cleaned.text)
    digest = hashlib.sha256(b"docx\0")
    digest.update(source.encode("utf-8", "surrogatepass") + f"\0{date}".encode())
    return cleaned.document(
        doc_id=doc_id,
        source=source,
        content_hash=digest.hexdigest(),
        path=path if path is not None else doc_id,
        date=date,
    )
