"""Ranking and citing passages: mechanics on a tiny corpus, then the real model on the seed articles."""

from __future__ import annotations

import dataclasses

import pytest

from qa.answer import read_as, with_context
from qa.limits import MAX_QUESTION_CHARS, QuestionError
from qa.question import analyse
from qa.ranking import RANKING_STAGES
from qa.retrieval import Retriever
from qa.store import IndexMismatch, open_store


def test_hits_carry_a_citation_into_the_original_file(tiny_retriever, tiny_corpus):
    hits = tiny_retriever.retrieve("Amina Hassan experte atelier traite", k=3)
    assert [h.rank for h in hits] == [1, 2, 3]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    first = hits[0]
    assert first.doc_id == "cairo.txt" and first.title == "Atelier sur la traite au Caire"
    original = (tiny_corpus / "cairo.txt").read_text(encoding="utf-8")
    c = first.citation
    assert c.path == f"{tiny_corpus.as_posix()}/cairo.txt"
    assert original[c.start : c.end].split() == first.text.split()
    assert original.splitlines()[c.lines[0] - 1].split()[0] == first.text.split()[0]
    assert first.text[first.answer_span[0] : first.answer_span[1]] == first.answer


@pytest.mark.parametrize(
    "question, message",
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("x" * (MAX_QUESTION_CHARS + 1), "limit is 2,000"),
        ("bad \udcff byte", "not valid UTF-8"),
        (b"\xff\xfe bad", "not valid UTF-8"),
        (None, "must be text"),
    ],
)
def test_bad_questions_get_a_clear_error(tiny_retriever, question, message):
    with pytest.raises(QuestionError, match=message):
        tiny_retriever.retrieve(question)
    with pytest.raises(QuestionError, match=message):
        tiny_retriever.answer(question)


def test_k_is_checked(tiny_retriever):
    assert len(tiny_retriever.retrieve("bureau", k=1)) == 1
    for k in (0, -1, "abc", 10_000):
        with pytest.raises(QuestionError, match="number of passages"):
            tiny_retriever.retrieve("bureau", k=k)


def test_a_newer_index_version_is_picked_up_without_a_restart(tiny_retriever, tiny_corpus, tiny_index):
    from qa.indexer import update_index

    before = tiny_retriever.reader.version
    assert not tiny_retriever.refresh()
    (tiny_corpus / "dakar.txt").write_text("Dakar\nMoussa Diop dirige le bureau de Dakar.\n", encoding="utf-8")
    update_index(tiny_corpus, tiny_index, backend="hash")
    assert "Moussa Diop" in tiny_retriever.retrieve("Moussa Diop Dakar", k=1)[0].text
    assert tiny_retriever.reader.version != before


def test_a_newer_version_built_otherwise_is_refused_once(tiny_retriever, tiny_corpus, tiny_index, monkeypatch, caplog):
    from qa.indexer import update_index

    update_index(tiny_corpus, tiny_index, backend="hash", model="another-model")
    opened = []
    store = tiny_retriever.store
    original = store.open_reader
    monkeypatch.setattr(store, "open_reader", lambda: opened.append(1) or original())
    with caplog.at_level("WARNING", logger="qa"):
        for _ in range(3):
            assert tiny_retriever.retrieve("bureau", k=1)  # still answers from the version it has
    assert len(opened) == 1  # loaded and refused once, not on every question
    assert sum("cannot serve" in r.message for r in caplog.records) == 1


def test_an_index_of_another_backend_is_refused(tiny_index, tiny_corpus):
    with pytest.raises(IndexMismatch, match="model"):
        Retriever.open(tiny_index, tiny_corpus, model="another-model", backend="hash")


def test_reranking_reads_the_pieces_of_the_best_few_in_one_batch(tiny_retriever, monkeypatch):
    batches = []
    reader = tiny_retriever.reader
    original = reader.pieces
    monkeypatch.setattr(reader, "pieces", lambda keys: batches.append(len(keys)) or original(keys))
    ranking = dataclasses.replace(tiny_retriever.ranking, depth=2)
    tiny_retriever.retrieve("bureau de l'OIM", k=1, ranking=ranking)
    tiny_retriever.retrieve("bureau de l'OIM", k=3, ranking=ranking)  # every hit returned is reranked
    assert batches == [2, 3]


@pytest.mark.parametrize("coarse", [True, False], ids=["coarse pieces", "int8 pieces"])
def test_the_model_reads_again_the_best_passages_whose_pieces_are_coarse(tiny_retriever, monkeypatch, coarse):
    reader, embedder = tiny_retriever.reader, tiny_retriever.embedder
    stored, encode = reader.pieces, embedder.encode_documents
    monkeypatch.setattr(reader, "pieces", lambda keys: [dataclasses.replace(p, coarse=coarse) for p in stored(keys)])
    read_again = []
    monkeypatch.setattr(embedder, "encode_documents", lambda texts: read_again.append(list(texts)) or encode(texts))
    ranking = dataclasses.replace(tiny_retriever.ranking, depth=3, sharpened=2)
    ranked = tiny_retriever.rank("bureau de l'OIM", 3, ranking)
    if not coarse:
        assert read_again == []  # int8 pieces are the model's: no model pass
        return
    assert len(read_again) == 1 and len(read_again[0]) == 2  # the best two, in one batch
    exact = [s for s in ranked.scored[:3] if s.match is not None and not s.match.pieces.coarse]
    assert sorted(s.passage.titled_text for s in exact) == sorted(read_again[0])


def test_stages_without_reranking_read_no_pieces(tiny_retriever, monkeypatch):
    monkeypatch.setattr(tiny_retriever.reader, "pieces", lambda keys: pytest.fail("reranked"))
    for stage in ["dense", "bm25", "hybrid", "sentences"]:
        assert tiny_retriever.retrieve("bureau Tromsø", k=2, ranking=RANKING_STAGES[stage])


def test_follow_ups_are_searched_with_the_previous_question():
    assert (
        with_context("What is his email?", ["Who leads IOM Mongolia?"]) == "Who leads IOM Mongolia? What is his email?"
    )
    assert with_context("Et son numéro ?", ["Qui dirige l'OIM en Mongolie ?"]).startswith("Qui dirige")
    assert with_context("Where was the fifth global meeting held?", ["Who leads IOM Mongolia?"]) == (
        "Where was the fifth global meeting held?"
    )
    assert with_context("Who leads IOM Mongolia?", []) == "Who leads IOM Mongolia?"


def test_the_reader_model_reads_an_open_follow_up_alone_and_others_with_the_question_before():
    before = "Qui est le Colonel en chef du Département de contrôle des passeports ?"
    for question, alone in [
        ("Selon lui, que permettra de prévenir cet événement ?", True),  # open, says what it asks
        ("Quelle fonction occupe-t-il ?", False),  # a role: whose is the question before's
        ("Et pourquoi ?", False),  # too short to be read alone
    ]:
        searched = with_context(question, [before])
        assert searched.startswith(before)
        assert read_as(analyse(question), searched) == (question if alone else searched)


def test_the_store_is_opened_from_a_folder_or_a_uri(tmp_path):
    from qa.store.faiss import FilesStore
    from qa.store.postgres import PostgresStore

    assert isinstance(open_store(tmp_path), FilesStore)
    for uri in ("postgresql://qa:secret@127.0.0.1:9/news", "host=127.0.0.1 port=9 dbname=news password=secret"):
        store = open_store(uri)  # no connection yet: opening a store names it, reading connects
        assert isinstance(store, PostgresStore) and "secret" not in str(store.location)


# ---------------------------------------------------------------- the real model (slow)


@pytest.mark.slow
def test_english_question_finds_the_french_head_of_mission(retriever):
    hits = retriever.retrieve("Who leads IOM Mongolia?", k=5)
    assert "Pär Liljert" in hits[0].text


@pytest.mark.slow
def test_french_question_finds_the_head_of_mission(retriever):
    hits = retriever.retrieve("Qui est le chef de mission de l'OIM en Mongolie ?", k=5)
    assert "Pär Liljert" in hits[0].text


@pytest.mark.slow
def test_answer_is_the_best_sentence_of_the_passage(retriever):
    hit = retriever.retrieve("What is the phone number of IOM Mongolia?", k=1)[0]
    assert "Tel: +976" in hit.answer


def test_the_module_function_takes_a_ranking_for_one_call(tiny_corpus, tiny_index):
    import qa
    from qa.ranking import Ranking

    first = qa.retrieve("Saruul Bat", k=2, store=tiny_index, corpus_dir=tiny_corpus, backend="hash")
    plain = qa.retrieve(
        "Saruul Bat",
        k=2,
        store=tiny_index,
        corpus_dir=tiny_corpus,
        backend="hash",
        ranking=Ranking(rerank=None, read=None),
    )
    assert first[0].doc_id == plain[0].doc_id == "mongolia.txt"
    assert first[0].score != plain[0].score  # another ranking was used, for that call only


def test_a_damaged_newer_version_leaves_the_one_in_use(tiny_retriever, tiny_corpus, tiny_index):
    from qa.indexer import update_index
    from qa.store.generations import PIECE_DF

    before = tiny_retriever.reader.version
    (tiny_corpus / "dakar.txt").write_text("Dakar\nMoussa Diop dirige le bureau de Dakar.\n", encoding="utf-8")
    update_index(tiny_corpus, tiny_index, backend="hash")
    newer = tiny_retriever.store.current_version()
    (tiny_index / newer / PIECE_DF).write_bytes(b"damaged")
    assert tiny_retriever.retrieve("Saruul Bat", k=1)  # still answers, from the version it has
    assert tiny_retriever.reader.version == before


def test_a_complete_question_in_another_language_is_not_a_follow_up():
    german = "Wer leitet die IOM in der Mongolei?"
    assert with_context("¿Quién dirige la OIM en Mongolia?", [german]) == "¿Quién dirige la OIM en Mongolia?"
    assert with_context("Et son numéro ?", [german]).startswith(german)
    assert with_context("Y a-t-il un bureau là-bas ?", [german]).startswith(german)


def test_opening_a_missing_index_says_to_build_it(tmp_path, tiny_corpus):
    from qa.store import IndexMissing

    with pytest.raises(IndexMissing, match="qa index"):
        Retriever.open(tmp_path / "nothing-yet", tiny_corpus, backend="hash")
    assert not (tmp_path / "nothing-yet").exists() or not any((tmp_path / "nothing-yet").iterdir())


@pytest.mark.parametrize(
    ("question", "backend", "loads"),
    [
        ("Quel est le thème de la réunion du Caire ?", "onnx", True),  # open: the model reads it
        ("Qui dirige l'OIM en Mongolie ?", "onnx", True),  # a French question of a kind: the model picks
        ("Who is the press contact?", "onnx", False),  # a contact: the rule reader's
        ("Quel est le thème de la réunion du Caire ?", "hash", False),  # the test backend goes without models
        ("x" * (MAX_QUESTION_CHARS + 1), "onnx", False),  # refused before anything is read
    ],
)
def test_a_one_off_question_starts_loading_the_reader_only_when_it_will_read(monkeypatch, question, backend, loads):
    started = []
    monkeypatch.setattr("qa.retrieval.load_in_background", started.append)
    Retriever.start_loading_for(question, backend)
    assert bool(started) is loads


@pytest.mark.parametrize(
    ("every", "question", "most_read"),
    [
        (True, "Quel est le thème de l'atelier au Caire ?", 3),
        (False, "Quel est le thème de l'atelier au Caire ?", 2),  # open: the first open_depth
        (False, "Qui a ouvert l'atelier au Caire ?", 1),  # of a kind: the best one
    ],
)
def test_the_model_reads_every_passage_of_the_head_only_when_asked(tiny_retriever, every, question, most_read):
    from qa.ranking import Ranking, ReadWeights
    from qa.reader_model import Reading

    read: list[int] = []

    class CountingModel:
        def read(self, question, passages):
            read.append(len(passages))
            return [Reading(0.0, 0, 0, float("-inf")) for _ in passages]

    retriever = Retriever(
        tiny_retriever.store, tiny_retriever.embedder, tiny_retriever.corpus_dir, reader_model=CountingModel
    )
    ranking = Ranking(read=ReadWeights(every=every, open_answers=0.01, open_depth=2))
    scored = retriever.rank(question, k=3, ranking=ranking).scored
    assert read and max(read) == min(most_read, len(scored))
    assert [s.passage.doc_id for s in scored] == [
        s.passage.doc_id for s in tiny_retriever.rank(question, k=3, ranking=ranking).scored
    ]  # reading every passage, with no weight, leaves the order as it was
