"""Bytes to text: UTF-8, byte-order marks, Latin-1/cp1252 French, and binary files refused."""

import codecs

import pytest

from qa.ingest import load_corpus
from qa.ingest.decode import decode_bytes
from qa.ingest.document import Unusable

FRENCH = (
    "L’OIM et le Niger lancent un programme\n"
    "Niamey – Les réfugiés arrivés à Agadez ont été accueillis. « C’est très bien », a déclaré\n"
    "la cheffe de mission. Cœur de l’été… 50 € par personne.\n"
)


def test_utf8_and_its_bom():
    assert decode_bytes(FRENCH.encode("utf-8")) == FRENCH
    assert decode_bytes(codecs.BOM_UTF8 + FRENCH.encode("utf-8")) == FRENCH  # the mark is not text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_or_without_bom(encoding):
    assert decode_bytes(FRENCH.encode(encoding)) == FRENCH


def test_cp1252_french_is_read():
    assert decode_bytes(FRENCH.encode("cp1252")) == FRENCH


@pytest.mark.parametrize(
    "text",
    [
        "Titre\nUn texte accentué é.\n",  # charset-normalizer alone says mac_latin2
        "Élève à l'école, très tôt.\n",  # ... and cp1250 here
        "Les réfugiés arrivés à Genève ont été accueillis par les équipes de l'OIM.\n" * 20,
    ],
)
def test_latin1_french_is_read(text):
    assert decode_bytes(text.encode("latin-1")) == text


def test_other_single_byte_encodings_are_detected():
    russian = "Международная организация по миграции открыла новый центр в Москве. " * 5
    assert decode_bytes(russian.encode("cp1251")) == russian


def test_utf8_with_a_stray_latin1_byte_stays_utf8():
    data = FRENCH.encode("utf-8") + " café".encode("latin-1")
    text = decode_bytes(data)
    assert text.startswith(FRENCH) and text.endswith("caf\ufffd")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01", "PNG image"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "executable"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "JPEG image"),
        (bytes(range(256)) * 8, "NUL bytes"),
    ],
)
def test_binary_files_are_refused_with_their_kind(data, kind):
    with pytest.raises(Unusable, match="binary file") as caught:
        decode_bytes(data)
    assert kind in str(caught.value)


def test_control_characters_mean_binary():
    with pytest.raises(Unusable, match="control characters"):
        decode_bytes(b"abc\x01\x02\x03\x04\x05\x06def" * 10)


def test_offsets_of_a_latin1_file_are_byte_offsets(tmp_path):
    """In a single-byte encoding each byte is one character: a citation's offset is
    also the byte position in the file."""
    data = FRENCH.encode("latin-1", errors="replace")  # ’ œ € are not Latin-1: "?"
    (tmp_path / "latin1.txt").write_bytes(data)
    (tmp_path / "utf16.txt").write_bytes(FRENCH.encode("utf-16"))
    docs = {d.doc_id: d for d in load_corpus(tmp_path).documents}
    assert docs["utf16.txt"].title == "L’OIM et le Niger lancent un programme"
    doc = docs["latin1.txt"]
    assert "réfugiés arrivés" in doc.text
    for ch, offset in zip(doc.text, doc.offsets.tolist(), strict=True):
        if not ch.isspace():
            assert data[offset : offset + 1].decode("latin-1") == ch
