"""A conversation exported as Markdown: questions, answers and their citations, and article text that
cannot change the document's shape."""

from markdown_it import MarkdownIt

from qa.export import Turn, conversation_markdown, inline
from qa.judge import Judging

HOSTILE = "# Piège\n\n</details><script>x</script> [click](javascript:alert(1)) **gras** `code`\n> cité\n1. liste"


def blocks(markdown: str) -> list[str]:
    return [token.type for token in MarkdownIt("commonmark").parse(markdown) if token.nesting >= 0]


def answer_record(**changes) -> dict:
    hit = {
        "rank": 1,
        "score": 0.9,
        "text": "Le chef de mission de l'OIM en Mauritanie est Anke Strauss.",
        "answer": "Le chef de mission de l'OIM en Mauritanie est Anke Strauss.",
        "answer_span": [0, 60],
        "passage_id": "ab12",
        "doc_id": "rapport.pdf",
        "title": "Une nouvelle cheffe",
        "path": "corpus/rapport.pdf",
        "start": 0,
        "end": 60,
        "lines": [3, 4],
        "page": 2,
        "date": "2017-03-14",
        "ocr": True,
    }
    record = {
        "question": "Qui est le chef de mission de l'OIM en Mauritanie ?",
        "searched": "Qui est le chef de mission de l'OIM en Mauritanie ?",
        "found": True,
        "short_answer": {"text": "Anke Strauss", "kind": "person", "hit": 1} | {k: hit[k] for k in ("doc_id", "lines")},
        "why_not": None,
        "hits": [hit],
        "older_differs": None,
    }
    return record | changes


def test_each_question_with_its_answer_and_sources_title_file_page_lines_date():
    older = {"text": "Jean Dupont", "kind": "person", "hit": 2, "doc_id": "mauritanie_2013.txt", "lines": [2, 2]}
    markdown = conversation_markdown(
        [Turn("Qui est le chef de mission ?", answer_record(older_differs=older | {"date": "2013-05-21"}))],
        "2026-12-05 08:00 UTC",
        "corpus folder corpus",
    )
    assert markdown.startswith("# Conversation with the news articles\n\nExported 2026-12-05 08:00 UTC · corpus")
    assert "## 1. Qui est le chef de mission ?" in markdown
    assert "**Anke Strauss** [1]" in markdown
    assert "1. **Une nouvelle cheffe**, file rapport.pdf, page 2, lines 3–4, dated 2017-03-14, read by OCR" in markdown
    assert "   > Le chef de mission de l'OIM en Mauritanie est Anke Strauss." in markdown
    assert (
        "An older article says otherwise: **Jean Dupont** [2] (file mauritanie\\_2013.txt, line 2, dated 2013-05-21)"
        in (markdown)
    )


def test_refusals_and_unanswered_questions_say_so():
    refused = answer_record(found=False, short_answer=None, why_not="The passages say nothing about Senegal.")
    markdown = conversation_markdown(
        [Turn("Et au Sénégal ?", refused), Turn("", message="Please type a question.")], "t"
    )
    assert "Nothing in the articles answers this. The passages say nothing about Senegal." in markdown
    assert "The closest passages, which are not answers:" in markdown and "Sources:" not in markdown
    assert "## 2. \n\nPlease type a question." in markdown


def test_article_text_cannot_change_the_shape_of_the_document():
    hostile_hit = answer_record()["hits"][0] | {"title": HOSTILE, "answer": HOSTILE, "doc_id": "a`b.txt"}
    record = answer_record(hits=[hostile_hit], short_answer={"text": HOSTILE, "hit": 1})
    markdown = conversation_markdown([Turn(HOSTILE, record), Turn("Deuxième ?", answer_record())], "t")
    parsed = MarkdownIt("commonmark").parse(markdown)
    kinds = [token.type for token in parsed]
    assert "html_block" not in kinds and "fence" not in kinds and "code_block" not in kinds
    inline_kinds = {child.type for token in parsed for child in token.children or []}
    assert not inline_kinds & {"html_inline", "link_open", "code_inline", "image"}
    assert [t.tag for t in parsed if t.type == "heading_open"] == ["h1", "h2", "h2"]  # one per question
    assert kinds.count("blockquote_open") == 4  # the answer sentence and the passage of each turn
    assert "</details><script>x</script>" in MarkdownIt("commonmark").render(markdown).replace("&lt;", "<").replace(
        "&gt;", ">"
    )  # the words are all there, as text


def test_a_line_of_text_keeps_its_words():
    assert inline("# Titre") == "\\# Titre" and inline("1. liste") == "1\\. liste"
    assert inline("Oulan-Bator, 3 500 kits") == "Oulan-Bator, 3 500 kits"
    assert inline("a\n\n> b") == "a \\> b"


def test_a_real_answer_exports_with_its_citations(tiny_retriever):
    tiny_retriever.judging = Judging(score_floor=0.0)
    answer = tiny_retriever.answer("Qui dirige le bureau de l'OIM à Oulan-Bator ?")
    markdown = conversation_markdown([Turn(answer.question, answer.as_dict())], "t")
    first = answer.hits[0].citation
    assert f"1. **{inline(first.title)}**, file {inline(first.doc_id)}, line" in markdown
    assert blocks(markdown).count("heading_open") == 2
