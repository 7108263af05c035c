import pytest

from qa.retrieval import MAX_QUESTION_CHARS, check_question


def test_english_question_finds_the_french_head_of_mission(retriever):
    hits = retriever.retrieve("Who leads IOM Mongolia?", k=5)
    assert "Pär Liljert" in hits[0].text


def test_answer_is_the_best_sentence_of_the_passage(retriever):
    hit = retriever.retrieve("Who is the head of mission of IOM in Mongolia?", k=1)[0]
    assert "Pär Liljert, chef de mission" in hit.answer
    hit = retriever.retrieve("What is the phone number of IOM Mongolia?", k=1)[0]
    assert "Tel: +976" in hit.answer


def test_french_question_finds_the_head_of_mission(retriever):
    hits = retriever.retrieve("Qui est le chef de mission de l'OIM en Mongolie ?", k=5)
    assert "Pär Liljert" in hits[0].text


def test_hits_carry_a_citation_into_the_original_file(retriever, seed_corpus):
    hits = retriever.retrieve("What is the phone number of IOM Mongolia?", k=3)
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score
    for hit in hits:
        c = hit.citation
        assert c.path == f"corpus/{c.doc_id}" or c.path.endswith(f"/corpus/{c.doc_id}")
        original = (seed_corpus / c.doc_id).read_text(encoding="utf-8")
        assert hit.answer.split()[0] in original[c.start : c.end]
        assert c.lines[0] <= c.lines[1]
        assert hit.text[hit.answer_span[0] : hit.answer_span[1]] == hit.answer
        assert c.title


def test_empty_questions_are_refused(retriever):
    for question in ["", "   \n\t"]:
        with pytest.raises(ValueError, match="empty"):
            retriever.retrieve(question)


def test_huge_question_is_truncated_not_crashed(retriever):
    hits = retriever.retrieve("Who leads IOM Mongolia? " + "blah " * 5000, k=2)
    assert len(hits) == 2
    assert len(check_question("x" * (MAX_QUESTION_CHARS * 2))) == MAX_QUESTION_CHARS


def test_k_is_respected_and_checked(retriever):
    assert len(retriever.retrieve("migration", k=1)) == 1
    with pytest.raises(ValueError):
        retriever.retrieve("migration", k=0)


def test_a_newer_index_generation_is_picked_up(retriever, seed_index, tmp_path):
    from qa.index import Index

    index = Index.load(seed_index)
    before = retriever.index.generation
    index.save(seed_index)  # a new generation of the same content
    assert retriever.refresh()
    assert retriever.index.generation != before
    assert not retriever.refresh()


def test_reranking_reads_again_only_the_best_few(retriever, monkeypatch):
    from dataclasses import replace

    seen = []
    original = retriever.token_scorer.scores
    monkeypatch.setattr(retriever.token_scorer, "scores", lambda q, passages: seen.append(len(passages)) or original(q, passages))
    monkeypatch.setattr(retriever, "ranking", replace(retriever.ranking, rerank_depth=3))
    assert len(retriever.retrieve("Who leads IOM Mongolia?", k=2)) == 2
    hits = retriever.retrieve("Who leads IOM Mongolia?", k=6)  # every hit returned is reranked
    assert seen == [3, 6]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_stages_without_reranking_do_not_read_passages_again(retriever, monkeypatch):
    from qa.retrieval import RANKING_STAGES

    monkeypatch.setattr(retriever.token_scorer, "scores", lambda *a: pytest.fail("reranked"))
    for stage in ["dense", "bm25", "hybrid", "sentences"]:
        monkeypatch.setattr(retriever, "ranking", RANKING_STAGES[stage])
        assert retriever.retrieve("Who leads IOM Mongolia?", k=3)
