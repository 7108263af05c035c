"""Answering a question with cited passages from the index."""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunking import ChunkSettings, Passage
from .corpus import path_in_corpus
from .embedding import DEFAULT_MODEL, Embedder, QueryPieces
from .index import Index, IndexMismatch, IndexMissing, current_generation
from .indexer import update_index
from .rerank import TokenScorer

DEFAULT_CORPUS_DIR = Path("corpus")
DEFAULT_INDEX_DIR = Path("embeddings")
MAX_QUESTION_CHARS = 10_000  # longer questions are cut (the model reads ~512 tokens anyway)


@dataclass(frozen=True)
class Weights:
    """How one stage weighs the evidence about a passage. Its score is

        (dense * cos(question, passage) + sentence * max cos(question, its sentences)
         + token * late interaction (qa.rerank) + lexical * coverage * BM25 / best BM25)
        / (dense + sentence + token)

    where coverage is the share of the question's words found in the corpus
    vocabulary: an English question over French text matches few words, so its
    keyword evidence counts for little by itself. Dividing by the model-based
    weights keeps scores on the cosine scale, so one no-answer threshold
    serves all stages.
    """

    dense: float = 0.0
    sentence: float = 0.0
    lexical: float = 0.0
    token: float = 0.0

    def score(self, dense: float, sentence: float, lexical: float, token: float = 0.0) -> float:
        total = self.dense * dense + self.sentence * sentence + self.token * token + self.lexical * lexical
        return total / ((self.dense + self.sentence + self.token) or 1.0)


@dataclass(frozen=True)
class Ranking:
    """The two stages: a cheap score for every candidate, then token-level
    reranking of the best few. Weights chosen on PIAF dev (docs/quality.md)."""

    first: Weights = Weights(dense=1.0, sentence=0.5, lexical=0.1)
    rerank: Weights | None = Weights(sentence=0.75, lexical=0.03, token=1.5)
    rerank_depth: int = 8  # passages rescored by ``rerank`` (at least the k asked for)
    candidates: int = 30  # passages from each of dense and BM25 search scored by ``first``
    no_answer_below: float = 0.80  # a best score under this means "nothing in the corpus answers"


# The stages reported in docs/quality.md; "default" is what the product uses.
RANKING_STAGES = {
    "dense": Ranking(first=Weights(dense=1.0), rerank=None),
    "bm25": Ranking(first=Weights(lexical=1.0), rerank=None),
    "hybrid": Ranking(first=Weights(dense=1.0, lexical=0.1), rerank=None),
    "sentences": Ranking(rerank=None),
    "default": Ranking(),
}


@dataclass(frozen=True)
class Citation:
    """Where a passage stands in the original article file."""

    doc_id: str  # file path relative to the corpus folder
    title: str
    path: str  # the file as seen from the working directory, e.g. "corpus/000_x.txt"
    start: int  # character offsets in the original file
    end: int
    lines: tuple[int, int]  # first and last line, 1-based


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    passage_id: str
    text: str
    answer: str  # the sentence of the passage that best answers the question
    answer_span: tuple[int, int]  # where ``answer`` is in ``text``
    citation: Citation

    @property
    def doc_id(self) -> str:
        return self.citation.doc_id

    @property
    def title(self) -> str:
        return self.citation.title

    def as_dict(self) -> dict:
        """A flat, JSON-ready record (the shape `qa ask --json` prints)."""
        c = self.citation
        return {
            "rank": self.rank,
            "score": self.score,
            "text": self.text,
            "answer": self.answer,
            "answer_span": list(self.answer_span),
            "passage_id": self.passage_id,
            "doc_id": c.doc_id,
            "title": c.title,
            "path": c.path,
            "start": c.start,
            "end": c.end,
            "lines": list(c.lines),
        }


@dataclass(frozen=True)
class Answer:
    """The reply to one turn of a conversation."""

    question: str
    searched: str  # what was searched: the question, with the previous turn for a follow-up
    hits: list[Hit]
    found: bool  # False when even the best passage scores under ``Ranking.no_answer_below``

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


def check_question(question: str) -> str:
    if not isinstance(question, str):
        raise TypeError(f"the question must be a string, not {type(question).__name__}")
    question = question.strip()
    if not question:
        raise ValueError("the question is empty")
    return question[:MAX_QUESTION_CHARS]


# Words that point back to an earlier turn ("What is his email?", "Et son numéro ?").
_REFERRING = re.compile(
    r"\b(?:he|him|his|she|her|hers|it|its|they|them|their|this|that|these|those|there|"
    r"il|elle|ils|elles|lui|leur|leurs|son|sa|ses|ce|cet|cette|ces|celui|celle|ceux|y|en|là)\b",
    re.IGNORECASE,
)


def with_context(question: str, history: list[str]) -> str:
    """The text to search for a question asked after ``history`` (earlier questions, oldest first).

    No generative model: a follow-up that refers back (a pronoun, "there", "son",
    "ce"…) or is very short is searched together with the previous question, so
    "What is his email?" after "Who leads IOM Mongolia?" looks for the email in
    the passages about the head of IOM Mongolia. A self-contained question is
    searched alone.
    """
    if not history:
        return question
    if _REFERRING.search(question) or len(question.split()) <= 3:
        return f"{history[-1]} {question}"
    return question


@dataclass(frozen=True)
class _Candidate:
    """A passage on its way through the ranking stages, with the evidence gathered so far."""

    row: int
    score: float
    dense: float  # cosine of question and passage
    sentence: float  # best cosine of question and one of the passage's sentences
    lexical: float  # relative BM25 times coverage
    sentence_cosines: np.ndarray
    best_sentence: int  # index of the answer sentence in the passage


@dataclass(frozen=True)
class _Loaded:
    """An index with what questions need beside it, swapped as one on a refresh."""

    index: Index
    token_scorer: TokenScorer  # its piece IDF is this index's


def _prepare(index: Index, scorer: TokenScorer) -> _Loaded:
    """Build what the first question would otherwise pay for: BM25 and the piece IDF."""
    _ = index.lexical
    return _Loaded(index, scorer.for_passages(index.passages))


class Retriever:
    """Keeps an index and its model loaded; picks up a newer index when one is written."""

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        corpus_dir: Path,
        index_dir: Path | None = None,
        ranking: Ranking | None = None,
    ):
        if index.manifest.model != embedder.model_name:
            raise IndexMismatch(
                f"index built with model {index.manifest.model!r}, asked for {embedder.model_name!r}"
            )
        self.embedder = embedder
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir) if index_dir else None
        self.ranking = ranking or Ranking()
        self._reload_lock = threading.Lock()
        self._loaded = _prepare(index, TokenScorer(embedder))

    @property
    def index(self) -> Index:
        return self._loaded.index

    @property
    def token_scorer(self) -> TokenScorer:
        return self._loaded.token_scorer

    @classmethod
    def open(
        cls,
        index_dir: Path = DEFAULT_INDEX_DIR,
        corpus_dir: Path = DEFAULT_CORPUS_DIR,
        model: str | None = None,
        settings: ChunkSettings = ChunkSettings(),
        build_if_missing: bool = True,
    ) -> Retriever:
        """Load the index in ``index_dir``; build it from ``corpus_dir`` first if there is none."""
        model = model or DEFAULT_MODEL
        try:
            index = Index.load(index_dir)
        except IndexMissing:
            if not build_if_missing:
                raise
            index = update_index(corpus_dir, index_dir, model, settings, show_progress=True).index
        why = index.manifest.incompatibility(model, settings.as_dict())
        if why:
            raise IndexMismatch(f"{index_dir}: {why}; run `qa index` to rebuild it")
        return cls(index, Embedder(model), corpus_dir, index_dir)

    def refresh(self) -> bool:
        """Switch to a newer index generation if ``qa index`` wrote one. Cheap: one small file read."""
        if self.index_dir is None or current_generation(self.index_dir) == self.index.generation:
            return False
        with self._reload_lock:
            if current_generation(self.index_dir) != self.index.generation:
                fresh = Index.load(self.index_dir)
                if fresh.manifest.model == self.embedder.model_name:
                    # prepared before the switch: meanwhile questions use the old index
                    self._loaded = _prepare(fresh, self.token_scorer)
                    return True
        return False

    def retrieve(self, question: str, k: int = 5) -> list[Hit]:
        question = check_question(question)
        if k < 1:
            raise ValueError("k must be at least 1")
        self.refresh()
        loaded = self._loaded  # one consistent snapshot even if a refresh happens meanwhile
        index = loaded.index
        query = self.embedder.encode_query_pieces(question)  # one pass serves both stages
        ranked = self._first_stage(index, question, query.vector, k)
        if self.ranking.rerank is not None:
            ranked = self._rerank(loaded, query, ranked[: max(self.ranking.rerank_depth, k)])
        return [
            self._hit(rank, c.score, index.passages[c.row], c.best_sentence)
            for rank, c in enumerate(ranked[:k], start=1)
        ]

    def _first_stage(self, index: Index, question: str, query: np.ndarray, k: int) -> list[_Candidate]:
        """Dense and BM25 candidates, each scored from its vectors and keywords, best first."""
        ranking = self.ranking
        dense = dict(index.search(query, max(ranking.candidates, k)))
        lexical = index.lexical.relative_scores(question) if ranking.first.lexical else np.zeros(len(index))
        if ranking.first.lexical:
            top = np.argsort(-lexical)[: ranking.candidates]
            for row in top[lexical[top] > 0]:
                dense.setdefault(int(row), float(index.passage_vector(int(row)) @ query))
        candidates = []
        for row, dense_score in dense.items():
            sentence_scores = index.sentence_vectors_of(row) @ query
            best = int(np.argmax(sentence_scores)) if len(sentence_scores) else 0
            best_score = float(sentence_scores[best]) if len(sentence_scores) else dense_score
            keyword = float(lexical[row])
            score = ranking.first.score(dense_score, best_score, keyword)
            candidates.append(_Candidate(row, score, dense_score, best_score, keyword, sentence_scores, best))
        return sorted(candidates, key=lambda c: -c.score)

    def _rerank(self, loaded: _Loaded, query: QueryPieces, head: list[_Candidate]) -> list[_Candidate]:
        """Rescore the head with token-level matching; the answer sentence becomes the one
        best matched by both its vector and its word pieces."""
        weights = self.ranking.rerank
        matches = loaded.token_scorer.scores(query, [loaded.index.passages[c.row] for c in head])
        rescored = []
        for candidate, match in zip(head, matches):
            best = candidate.best_sentence
            if len(match.sentence_scores) and len(match.sentence_scores) == len(candidate.sentence_cosines):
                best = int(np.argmax(candidate.sentence_cosines + match.sentence_scores))
            score = weights.score(candidate.dense, candidate.sentence, candidate.lexical, match.score)
            rescored.append(dataclasses.replace(candidate, best_sentence=best, score=score))
        return sorted(rescored, key=lambda c: -c.score)

    def answer(self, question: str, k: int = 5, history: list[str] | tuple[str, ...] = ()) -> Answer:
        """Retrieve for one turn of a conversation and decide whether anything answers it."""
        question = check_question(question)
        searched = with_context(question, list(history))
        hits = self.retrieve(searched, k)
        found = bool(hits) and hits[0].score >= self.ranking.no_answer_below
        return Answer(question=question, searched=searched, hits=hits, found=found)

    def _hit(self, rank: int, score: float, passage: Passage, best_sentence: int) -> Hit:
        path_in_corpus(self.corpus_dir, passage.doc_id)  # refuses ids that leave the corpus
        span = passage.sentences[best_sentence] if passage.sentences else (0, len(passage.text))
        return Hit(
            rank=rank,
            score=round(float(score), 4),
            passage_id=passage.passage_id,
            text=passage.text,
            answer=passage.text[span[0] : span[1]],
            answer_span=span,
            citation=Citation(
                doc_id=passage.doc_id,
                title=passage.title,
                path=(self.corpus_dir / passage.doc_id).as_posix(),
                start=passage.start,
                end=passage.end,
                lines=(passage.line_start, passage.line_end),
            ),
        )


@functools.lru_cache(maxsize=8)
def _cached_retriever(index_dir: Path, corpus_dir: Path, model: str | None) -> Retriever:
    return Retriever.open(index_dir, corpus_dir, model)


def retrieve(
    question: str,
    k: int = 5,
    index_dir: str | Path = DEFAULT_INDEX_DIR,
    corpus_dir: str | Path = DEFAULT_CORPUS_DIR,
    model: str | None = None,
) -> list[Hit]:
    """The ``k`` passages that best answer ``question``, best first, each with its citation.

    The index in ``index_dir`` is built from ``corpus_dir`` on first use and kept
    loaded for later calls.
    """
    question = check_question(question)
    return _cached_retriever(Path(index_dir), Path(corpus_dir), model).retrieve(question, k)
