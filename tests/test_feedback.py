"""Marks on answers ("right", "wrong" with the right answer) kept as JSONL beside the index, and
`qa eval --feedback FILE`, which turns them into a question set."""

import json
import threading

import pytest

from qa.cli import main
from qa.feedback import FEEDBACK_SETTING, Feedback, FeedbackError, FeedbackLog, feedback_file, load_feedback
from qa.indexer import update_index
from qa.judge import Judging

QUESTION = "Qui dirige le bureau de l'OIM à Oulan-Bator ?"


def mark(retriever, question: str, verdict: str, correction: str | None = None, history=()) -> Feedback:
    answer = retriever.answer(question, history=list(history))
    return Feedback(verdict, answer.as_dict(), retriever.reader.version, tuple(history), correction)


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_mark_is_one_line_with_the_answer_its_citations_and_the_index_version(tiny_retriever, tiny_index):
    path = feedback_file(tiny_index)
    assert path == tiny_index / "feedback.jsonl"
    log = FeedbackLog(path)
    log.append(mark(tiny_retriever, QUESTION, "right"))
    log.append(mark(tiny_retriever, "Et son email ?", "wrong", "terdene@iom.int", history=[QUESTION]))
    first, second = records(path)
    assert first["verdict"] == "right" and first["question"] == QUESTION and first["correction"] is None
    assert first["index_version"] == tiny_retriever.reader.version
    assert first["answer"] == tiny_retriever.answer(QUESTION).as_dict()  # the hits with their citations
    assert first["answer"]["hits"][0]["lines"] and first["answer"]["hits"][0]["doc_id"]
    assert first["at"].endswith("+00:00")  # UTC
    assert second["history"] == [QUESTION] and second["correction"] == "terdene@iom.int"


def test_marks_written_at_once_never_mix_their_lines(tmp_path):
    log = FeedbackLog(tmp_path / "feedback.jsonl")
    answer = {"question": "q", "found": True, "short_answer": {"text": "x" * 5000}, "hits": []}

    def write(n: int) -> None:
        for _ in range(20):
            log.append(Feedback("right", answer | {"question": f"q{n}"}, "v1"))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = records(tmp_path / "feedback.jsonl")
    assert len(lines) == 80 and {r["question"] for r in lines} == {"q0", "q1", "q2", "q3"}


def test_after_a_line_cut_short_the_next_mark_starts_a_line_and_the_cut_one_is_skipped(tmp_path):
    path = tmp_path / "feedback.jsonl"
    path.write_text('{"verdict": "right", "question": "cut sho', encoding="utf-8")  # a crash while writing
    FeedbackLog(path).append(Feedback("wrong", {"question": "Who?", "found": False}, "v1", correction="Anke Strauss"))
    loaded = load_feedback(path)
    assert [(c.question, c.answers) for c in loaded.cases] == [("Who?", ("Anke Strauss",))]
    assert loaded.skipped == [(1, "not a feedback record")]


def test_a_mark_that_cannot_be_written_says_why(tmp_path):
    (tmp_path / "not-a-folder").write_text("x")
    with pytest.raises(FeedbackError, match=r"not-a-folder/feedback.jsonl: "):
        FeedbackLog(tmp_path / "not-a-folder" / "feedback.jsonl").append(Feedback("right", {"question": "q"}, "v"))


def test_bad_marks_are_refused():
    with pytest.raises(ValueError, match="a verdict is one of right, wrong"):
        Feedback("maybe", {"question": "q"}, "v")
    with pytest.raises(ValueError, match="the right answer is 2,001 characters"):
        Feedback("wrong", {"question": "q"}, "v", correction="x" * 2001)


def test_where_marks_are_kept(tmp_path, monkeypatch):
    monkeypatch.delenv(FEEDBACK_SETTING, raising=False)
    assert feedback_file(tmp_path / "index") == tmp_path / "index" / "feedback.jsonl"
    in_database = feedback_file("postgresql://qa:s3cret@db.example/news?sslmode=require")
    assert in_database.parent.name == "feedback" and in_database.suffix == ".jsonl"
    assert "s3cret" not in str(in_database) and "db.example" in in_database.name and "news" in in_database.name
    monkeypatch.setenv(FEEDBACK_SETTING, str(tmp_path / "elsewhere.jsonl"))
    assert feedback_file(tmp_path / "index") == tmp_path / "elsewhere.jsonl"


def test_the_index_folder_keeps_working_with_marks_in_it(tiny_retriever, tiny_corpus, tiny_index):
    FeedbackLog(feedback_file(tiny_index)).append(mark(tiny_retriever, QUESTION, "right"))
    (tiny_corpus / "extra.txt").write_text("L'OIM à Dakar\nDakar – Un bureau ouvre à Dakar.\n", encoding="utf-8")
    update_index(tiny_corpus, tiny_index, backend="hash")
    update_index(tiny_corpus, tiny_index, backend="hash", full=True)
    assert len(records(tiny_index / "feedback.jsonl")) == 1


def test_marks_become_a_question_set_and_the_rest_is_skipped_with_the_reason(tmp_path):
    found = {"found": True, "short_answer": {"text": "Saruul Bat"}, "hits": [{"answer": "… dirigé par Saruul Bat."}]}
    sentence_only = {"found": True, "short_answer": None, "hits": [{"answer": "Le bureau emploiera douze personnes."}]}
    lines = [
        {"verdict": "right", "question": "Qui dirige ?", "answer": found},
        {"verdict": "right", "question": "Combien ?", "answer": sentence_only},
        {"verdict": "wrong", "question": "Où ?", "correction": "Oulan-Bator", "answer": found},
        {"verdict": "wrong", "question": "Quand ?", "correction": "", "answer": found},
        {"verdict": "right", "question": "Pourquoi ?", "answer": {"found": False, "hits": []}},
        {"verdict": "wrong", "question": "Qui dirige ?", "correction": "Saruul Bat, chef de mission", "history": []},
    ]
    path = tmp_path / "feedback.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n", encoding="utf-8")
    loaded = load_feedback(path)
    assert [(c.question, c.answers) for c in loaded.cases] == [
        ("Combien ?", ("Le bureau emploiera douze personnes.",)),
        ("Où ?", ("Oulan-Bator",)),
        ("Qui dirige ?", ("Saruul Bat, chef de mission",)),  # marked twice: the latest counts
    ]
    assert loaded.skipped == [
        (4, "marked wrong without the right answer"),
        (5, "a reply that found nothing, marked right: no answer to expect"),
        (7, "not a feedback record"),
    ]


def test_qa_eval_feedback_measures_the_marked_questions(tiny_retriever, tiny_corpus, tiny_index, capsys):
    tiny_retriever.judging = Judging(score_floor=0.0)  # model-free vectors: answered, so that "right" counts
    log = FeedbackLog(feedback_file(tiny_index))
    log.append(mark(tiny_retriever, QUESTION, "right"))
    log.append(mark(tiny_retriever, "Combien de personnes le bureau d'Oulan-Bator emploiera-t-il ?", "wrong", "douze"))
    log.append(mark(tiny_retriever, "Qui anime l'atelier du Caire ?", "wrong"))
    where = ["--corpus", str(tiny_corpus), "--store", str(tiny_index), "--backend", "hash"]
    assert main(["eval", "--feedback", str(tiny_index / "feedback.jsonl"), "--json", *where]) == 0
    captured = capsys.readouterr()
    figures = json.loads(captured.out)["figures"]["all"]
    assert figures["n"] == 2 and 0 <= figures["Answer@1"] <= 1
    assert "line 3 skipped: marked wrong without the right answer" in captured.err
    assert "2 questions, 1 lines skipped" in captured.err
    assert main(["eval", "--feedback", str(tiny_index / "none.jsonl"), *where]) == 2
    assert "no feedback file" in capsys.readouterr().err
    assert main(["eval", *where]) == 2
    assert "a question set or --feedback FILE" in capsys.readouterr().err
