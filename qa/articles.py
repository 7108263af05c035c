"""A passage read with its article's title and opening passage: where the names a question gives must stand.

A press release names its place in the dateline of its opening passage ("Népalgunj, 27 juin 2017 – …") and
its subject in its title, and its later passages ("La formation … rassemble 62 participants") are about them
too. Named elsewhere in the article, they are about something else: "Combien de PCR étaient actifs lors de la
quatrième réunion mondiale à Lima ?" is not answered by "Aujourd'hui, 18 PCR sont actifs", though the article
mentions Lima further on.
"""

from __future__ import annotations

from collections.abc import Sequence

from .embed import Pieces
from .judge import article_pieces, missing_countries, missing_names
from .question import Question
from .search import Scored
from .store import StoreReader, passage_key

NAMING_FIRST = 10.0  # above any first-stage score: passages whose article holds the question's names come first

Article = tuple[str, Pieces | None]  # the text (title, opening passage, the passage) and its word pieces


def articles_of(
    reader: StoreReader, passages: Sequence[Scored], read: Sequence[Scored] = (), pieces: bool = True
) -> dict[int, Article]:
    """Each passage with its article's title and opening passage, and their word pieces (unless ``pieces`` is
    False), by passage key. What is among ``read`` (passages already fetched, with their pieces if reranked)
    is not read again; the rest is read in one batch."""
    documents = reader.manifest.documents
    keys_of = {}
    for scored in passages:
        entry = documents.get(scored.passage.doc_id)
        opening = passage_key(entry.passage_ids[0]) if entry else scored.candidate.key
        keys_of[scored.candidate.key] = list(dict.fromkeys([opening, scored.candidate.key]))
    wanted = list(dict.fromkeys(key for keys in keys_of.values() for key in keys))
    seen = {s.candidate.key: s for s in [*read, *passages]}
    unread = [key for key in wanted if key not in seen]
    texts = {key: p.text for key, p in zip(unread, reader.passages(unread), strict=True)} if unread else {}
    texts |= {key: seen[key].passage.text for key in wanted if key in seen}
    matched = {key: s.match.pieces for key, s in seen.items() if key in wanted and s.match is not None}
    unmatched = [key for key in wanted if key not in matched] if pieces else []
    if unmatched:
        matched |= dict(zip(unmatched, reader.pieces(unmatched), strict=True))
    return {
        scored.candidate.key: (
            scored.passage.title + "\n" + "\n".join(texts[key] for key in keys_of[scored.candidate.key]),
            article_pieces([matched[key] for key in keys_of[scored.candidate.key]]) if pieces else None,
        )
        for scored in passages
    }


def naming_first(
    asked: Question, first: list[Scored], reader: StoreReader, question_pieces: Pieces | None, asked_at: int
) -> list[float]:
    """The first stage's scores, to order candidates by, with those that name what the question names ahead of
    the others, so that they are the ones reranked and read:
    - every country it names, in the passage or its title (by name or adjective, in four languages): "Who leads
      IOM in Chad?" is not answered by the press release about Mauritania, however close its words, nor by
      a passage of a release about the region that names no Chad;
    - every other name, ordinal or number, in its article (title, opening passage, the passage): "How many
      participants attend the IOM training … in Nepalgunj?" is asked of the release whose dateline names it.

    ``question_pieces``: None when names are read as written only (the stages that read no word pieces)."""
    scores = [s.score for s in first]
    naming = [True] * len(first)
    if missing_countries(asked, ""):  # it names countries
        naming = [not missing_countries(asked, f"{s.passage.title}\n{s.passage.text}") for s in first]
    if missing_names(asked, "", None, None, 0, countries=False):  # it names more than countries
        # as written first; a name written otherwise ("Oulan-Bator") by the word pieces of the passages lacking it
        texts = articles_of(reader, first, pieces=False)
        lacking = [n for n, s in enumerate(first) if naming[n] and _lacks(asked, texts[s.candidate.key], None, 0)]
        with_pieces = articles_of(reader, [first[n] for n in lacking]) if lacking and question_pieces else {}
        for n in lacking:
            article = with_pieces.get(first[n].candidate.key)
            naming[n] = article is not None and not _lacks(asked, article, question_pieces, asked_at)
    if all(naming) or not any(naming):
        return scores
    return [score + NAMING_FIRST * named for score, named in zip(scores, naming, strict=True)]


def _lacks(asked: Question, article: Article, question_pieces: Pieces | None, asked_at: int) -> bool:
    """The article lacks a name, ordinal or number the question gives (countries are read in the passage)."""
    text, pieces = article
    return bool(missing_names(asked, text, question_pieces, pieces, asked_at, countries=False))
