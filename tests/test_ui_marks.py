"""The chat's date filter, its "newer article first" note, the right and wrong marks on replies and the
export, through the page's handlers (no browser, model-free backend, made-up dated press releases)."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import gradio as gr
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from qa.feedback import load_feedback  # noqa: E402
from qa.library import Library  # noqa: E402
from qa.ui.handlers import Handlers  # noqa: E402
from qa.ui.marks import Marks  # noqa: E402

from .test_recency import ARTICLES, QUESTION, retriever_over  # noqa: E402


@pytest.fixture
def page(tmp_path):
    """The handlers of a page over the three dated press releases: (handlers, marks, index folder)."""
    retriever = retriever_over(tmp_path, ARTICLES)
    return Handlers(retriever, Library(retriever)), Marks(retriever), tmp_path / "index"


def ask(handlers: Handlers, question: str, since: str = "", until: str = "", turns=None, questions=None):
    """One question from the page: (the reply's HTML, the turns kept, the questions kept)."""
    out = handlers.respond(question, [], questions or [], 5, since, until, turns or [])
    chat, _, questions, turns = out[:4]
    return chat[-1]["content"], turns, questions


def clicked(marks: Marks, act: str, ref: str, turns: list) -> tuple:
    return marks.clicked(gr.EventData(None, {"act": act, "ref": ref}), turns)


def visible(update) -> bool:
    return bool(update.get("visible") if isinstance(update, dict) else getattr(update, "visible", False))


def test_a_reply_names_the_newer_article_first_says_the_older_differs_and_dates_its_sources(page):
    handlers, _, _ = page
    reply, turns, _ = ask(handlers, QUESTION)
    text = html.unescape(reply)
    assert "<strong>Anke Strauss</strong>" in text
    assert "An older article (2013-05-21) says otherwise: <strong>Jean Dupont</strong>" in text
    assert "mauritanie_2017.txt · lines 2–3 · 2017-03-14" in text  # the date in each citation
    assert "An older article (2013-05-21) says otherwise: Jean Dupont [2]." in text  # in the copied text too
    [turn] = turns
    assert f'href="#qa:right:{turn["ref"]}"' in reply and f'href="#qa:wrong:{turn["ref"]}"' in reply
    assert turn["answer"]["older_differs"]["text"] == "Jean Dupont"


def test_the_date_filter_keeps_the_articles_of_its_range_and_says_so(page):
    handlers, _, _ = page
    reply, turns, _ = ask(handlers, QUESTION, since="2013-01-01", until=" 2013-12-31 ")
    text = html.unescape(reply)
    assert "Only articles dated from 2013-01-01 to 2013-12-31 were searched." in text
    assert {h["doc_id"] for h in turns[0]["answer"]["hits"]} == {"mauritanie_2013.txt"}
    assert "<strong>Jean Dupont</strong>" in text and "older article" not in text
    assert (turns[0]["since"], turns[0]["until"]) == ("2013-01-01", "2013-12-31")
    reply, turns, _ = ask(handlers, QUESTION, since="2018-01-01")
    assert "Only articles dated from 2018-01-01 on were searched." in html.unescape(reply)
    assert {h["doc_id"] for h in turns[0]["answer"]["hits"]} == {"senegal_2019.txt"}


@pytest.mark.parametrize(
    "since, until, says",
    [
        ("14/03/2017", "", "not a date of the form YYYY-MM-DD: '14/03/2017'"),
        ("2017-02-30", "", "not a date of the form YYYY-MM-DD: '2017-02-30'"),
        ("2018-01-01", "2017-01-01", "no day is both since 2018-01-01 and until 2017-01-01"),
    ],
)
def test_a_bad_date_is_said_and_nothing_is_searched(page, since, until, says):
    handlers, _, _ = page
    reply, turns, questions = ask(handlers, QUESTION, since, until)
    assert html.unescape(reply).count(f"the date filter cannot be used: {says}") == 1
    assert questions == [] and turns[0]["answer"] is None and "date filter" in turns[0]["message"]


def test_right_is_kept_at_once_beside_the_index(page):
    handlers, marks, index = page
    _, turns, _ = ask(handlers, QUESTION)
    box, pending, status, _ = clicked(marks, "right", turns[0]["ref"], turns)
    assert not visible(box) and pending is None and "Marked right" in html.unescape(status)
    [record] = [json.loads(line) for line in (index / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["verdict"] == "right" and record["question"] == QUESTION and record["answer"] == turns[0]["answer"]
    assert record["index_version"] == marks.retriever.reader.version and record["correction"] is None


def test_wrong_asks_for_the_right_answer_then_keeps_both(page):
    handlers, marks, index = page
    _, first, questions = ask(handlers, QUESTION, since="2013-01-01", until="2013-12-31")
    _, turns, _ = ask(handlers, "Et son bureau ?", turns=first, questions=questions)
    older = turns[0]["ref"]
    box, pending, status, _ = clicked(marks, "wrong", older, turns)
    assert visible(box) and pending == older and QUESTION in html.unescape(status)
    assert not (index / "feedback.jsonl").exists()  # nothing kept until the right answer is given (or not)
    box, pending, status, text = marks.save_correction(pending, "  Anke   Strauss ", turns)
    assert not visible(box) and pending is None and text == ""
    assert "the right answer being “Anke Strauss”" in html.unescape(status)
    [record] = [json.loads(line) for line in (index / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
    assert (record["verdict"], record["correction"]) == ("wrong", "Anke Strauss")
    assert (record["since"], record["until"]) == ("2013-01-01", "2013-12-31")
    loaded = load_feedback(index / "feedback.jsonl")
    assert [(c.question, c.answers) for c in loaded.cases] == [(QUESTION, ("Anke Strauss",))]


def test_a_mark_on_a_reply_no_longer_there_or_not_written_is_said(page, tmp_path):
    handlers, marks, _ = page
    _, turns, _ = ask(handlers, QUESTION)
    _, _, status, _ = clicked(marks, "right", "0000000000000000", turns)
    assert "no longer in the conversation" in html.unescape(status)
    (tmp_path / "a-file").write_text("x")
    marks.log.path = tmp_path / "a-file" / "feedback.jsonl"  # its folder cannot be made
    _, _, status, _ = clicked(marks, "right", turns[0]["ref"], turns)
    assert "The mark could not be saved (" in html.unescape(status) and str(tmp_path) not in status
    assert clicked(marks, "cite", turns[0]["ref"], turns) == (gr.skip(),) * 4  # a citation: not a mark


def test_export_gives_the_conversation_as_markdown_with_its_citations(page):
    handlers, marks, _ = page
    _, turns, questions = ask(handlers, QUESTION)
    _, turns, _ = ask(handlers, "Qui ?", since="bad", turns=turns, questions=questions)
    exported = marks.export(turns)
    path = Path(exported.value if isinstance(exported.value, str) else exported.value["path"])
    markdown = path.read_text(encoding="utf-8")
    assert path.name.startswith("conversation-") and path.suffix == ".md"
    assert f"## 1. {QUESTION}" in markdown and "**Anke Strauss** [1]" in markdown
    assert "file mauritanie\\_2017.txt, lines 2–3, dated 2017-03-14" in markdown
    assert "An older article says otherwise: **Jean Dupont**" in markdown
    assert "## 2. Qui ?" in markdown and "the date filter cannot be used" in markdown
