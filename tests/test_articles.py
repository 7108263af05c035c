"""Which candidates name what the question names, read with their article's title and opening passage."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from qa.articles import articles_of, naming_first
from qa.embed import Pieces
from qa.question import analyse

NO_PIECES = Pieces(np.zeros(0, np.int32), np.zeros((0, 4), np.float32), np.zeros(0, np.int32))


def reader_of(articles: dict[str, tuple[str, list[str]]]):
    """A store reader over made-up articles: doc id -> (title, passages); passage i of doc d has the hex id
    f"{d}{i}0" (a key drops the id's last bit)."""
    texts, documents = {}, {}
    for doc, (title, passages) in articles.items():
        ids = [f"{doc}{n}0" for n in range(len(passages))]
        documents[doc] = SimpleNamespace(passage_ids=ids)
        texts |= {int(pid, 16) >> 1: (title, text, doc) for pid, text in zip(ids, passages, strict=True)}
    reader = SimpleNamespace(
        manifest=SimpleNamespace(documents=documents),
        passages=lambda keys: [SimpleNamespace(text=texts[k][1]) for k in keys],
        pieces=lambda keys: [NO_PIECES for _ in keys],
    )

    def scored(pid: str, score: float):
        title, text, doc = texts[int(pid, 16) >> 1]
        return SimpleNamespace(
            score=score,
            passage=SimpleNamespace(title=title, text=text, doc_id=doc),
            candidate=SimpleNamespace(key=int(pid, 16) >> 1),
            match=None,
        )

    return reader, scored


def order(question: str, first, reader) -> list[int]:
    scores = naming_first(analyse(question), first, reader, NO_PIECES, 0)
    return sorted(range(len(first)), key=lambda i: -scores[i])


def test_passages_naming_the_questions_country_are_reranked_first():
    reader, scored = reader_of(
        {
            "a0": ("IOM opens a sub-office in Nouadhibou", ["The new office will be headed by Sidi Ould Ebnou."]),
            "b0": ("L’OIM au Tchad", ["Nadège Okoumba, cheffe de mission de l’OIM au Tchad, a parlé."]),
            "c0": ("Un atelier à N’Djamena", ["Les autorités tchadiennes et l’OIM ont ouvert l’atelier."]),
        }
    )
    first = [scored("a000", 0.83), scored("b000", 0.80), scored("c000", 0.79)]
    assert order("Who leads IOM in Chad?", first, reader) == [1, 2, 0]
    assert order("Who leads IOM in Peru?", first, reader) == [0, 1, 2]  # none names it


def test_a_name_the_articles_dateline_gives_holds_for_its_later_passages():
    reader, scored = reader_of(
        {
            "a0": (
                "Népal : l’OIM forme des responsables de district",
                ["Népalgunj, 27 juin 2017 – L’OIM a ouvert hier une formation.", "Elle rassemble 62 participants."],
            ),
            "b0": (
                "Népal : un atelier à Katmandou",
                ["Katmandou, 2 mai 2017 – L’atelier de l’OIM réunit 80 participants."],
            ),
        }
    )
    first = [scored("b000", 0.84), scored("a010", 0.82)]
    assert order("How many participants attend the IOM training in Nepalgunj?", first, reader) == [1, 0]
    assert order("How many participants attend the IOM training?", first, reader) == [0, 1]  # no name to look for
    article, _ = articles_of(reader, [first[1]])[first[1].candidate.key]
    assert article.splitlines() == [
        "Népal : l’OIM forme des responsables de district",
        "Népalgunj, 27 juin 2017 – L’OIM a ouvert hier une formation.",
        "Elle rassemble 62 participants.",
    ]
