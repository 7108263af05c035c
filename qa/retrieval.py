"""Ranking passages for a question: search, fusion, reranking; the answer sentence and its citation."""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .answer import Answer, Citation, Hit, ShortAnswer, refers_back, with_context
from .chunking import ChunkSettings, Passage
from .embed import DEFAULT_BACKEND, DEFAULT_MODEL, Embedder, ModelError, Pieces, get_embedder
from .extractor import Extractor, default_extractor
from .indexer import index_settings, update_index
from .ingest import path_in_corpus
from .ingest.collection import split_doc_id
from .limits import check_k, check_question
from .question import Question, analyse
from .ranking import Ranking, Weights
from .reader import ANSWERING_SPANS, OWNED, Evidence, Found, ReaderWeights, read_passage, sentence_scores
from .refusal import Verdict, article_pieces, judge
from .rerank import TokenMatch, token_matches
from .spans import Span, looks_like_person
from .store import (
    DEFAULT_STORE,
    Candidate,
    IndexMismatch,
    IndexMissing,
    IndexUnusable,
    Store,
    StoreReader,
    open_store,
    passage_key,
)

log = logging.getLogger(__name__)

DEFAULT_CORPUS_DIR = Path("corpus")


@dataclass(frozen=True)
class Scored:
    """A candidate passage on its way through the ranking stages, with the evidence gathered so far."""

    candidate: Candidate
    score: float
    sentence: float  # best cosine of question and one of the passage's sentences
    lexical: float  # relative BM25 times coverage
    sentence_cosines: np.ndarray
    best_sentence: int  # index of the answer sentence in the passage
    match: TokenMatch | None = None  # set by reranking
    found: Found | None = None  # set by the reader
    ranked_score: float = 0.0  # the score before the reader weighed in

    @property
    def sentence_relevance(self) -> np.ndarray:
        """How well each sentence matches the question: its cosine, and its token match when reranked."""
        if self.match is not None and len(self.match.sentence_scores) == len(self.sentence_cosines):
            return (self.sentence_cosines + self.match.sentence_scores) / 2
        return self.sentence_cosines

    @property
    def passage(self) -> Passage:
        return self.candidate.passage


@dataclass(frozen=True)
class Ranked:
    scored: list[Scored]  # best first
    question_pieces: Pieces  # the searched text's word pieces, as the model read them
    reader: StoreReader  # the version they come from


@dataclass(frozen=True)
class Loaded:
    """A store version with what questions need beside it, swapped as one on a refresh."""

    reader: StoreReader
    piece_idf: np.ndarray


class Retriever:
    """Keeps a store version and its model loaded; picks up a newer version when one is written."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        corpus_dir: Path,
        ranking: Ranking | None = None,
        extractor: Callable[[], Extractor] | None = None,
    ):
        self.store = store
        self.extractor = extractor  # loads the extractive model when first needed; None: sentences answer
        self.embedder = embedder
        self.corpus_dir = Path(corpus_dir)
        self.ranking = ranking or Ranking()
        self._reload_lock = threading.Lock()
        self._refused: str | None = None  # a version already found unusable: not loaded again
        # A question is many small matrix products (20 × 384 by 384 × 150): a second BLAS thread only adds
        # waiting, 15 times over on a busy two-core machine. The model runs on onnxruntime's own threads.
        threadpool_limits(limits=1, user_api="blas")
        self._loaded = self._load(store.open_reader())

    def _load(self, reader: StoreReader) -> Loaded:
        wanted = dataclasses.replace(
            index_settings(self.embedder, ChunkSettings()), chunking=reader.manifest.settings.chunking
        )
        why = reader.manifest.settings.incompatibility(wanted)
        if why:
            raise IndexMismatch(f"{self.store.location}: {why}; run `qa index` to rebuild it")
        return Loaded(reader, reader.piece_idf())

    @property
    def reader(self) -> StoreReader:
        return self._loaded.reader

    @classmethod
    def open(
        cls,
        store: Store | str | Path = DEFAULT_STORE,
        corpus_dir: Path = DEFAULT_CORPUS_DIR,
        model: str = DEFAULT_MODEL,
        backend: str = DEFAULT_BACKEND,
        chunking: ChunkSettings = ChunkSettings(),
        build_if_missing: bool = True,
    ) -> Retriever:
        """Open the index in ``store``; build it from ``corpus_dir`` first if there is none. Open
        questions are answered by the extractive model, which the ``hash`` test backend goes without."""
        store = open_store(store)
        embedder = get_embedder(model, backend)
        manifest = store.read_manifest()
        if manifest is None:
            if not build_if_missing:
                raise IndexMissing(f"no index in {store.location} (run `qa index` to build it)")
            update_index(corpus_dir, store, model, backend, chunking, show_progress=True)
        elif manifest.settings.chunking != chunking.as_dict():
            raise IndexMismatch(
                f"{store.location}: index built with chunking {manifest.settings.chunking}, asked for "
                f"{chunking.as_dict()}; run `qa index` to rebuild it"
            )
        return cls(store, embedder, corpus_dir, extractor=None if backend == "hash" else default_extractor)

    def refresh(self) -> bool:
        """Switch to a newer version if ``qa index`` wrote one. Cheap: one small read."""
        version = self.store.current_version()
        if version in (self.reader.version, self._refused):
            return False
        with self._reload_lock:
            version = self.store.current_version()
            if version in (self.reader.version, self._refused) or version is None:
                return False
            try:
                loaded = self._load(self.store.open_reader())  # meanwhile questions use the old version
            except IndexUnusable as exc:  # built otherwise, or damaged: the version in use still answers
                self._refused = version
                log.warning("keeping index version %s: the newer one cannot serve: %s", self.reader.version, exc)
                return False
            self._loaded = loaded
            return True

    def retrieve(self, question: str, k: int = 5, ranking: Ranking | None = None) -> list[Hit]:
        """The ``k`` passages that best answer ``question``, best first."""
        question, k = check_question(question), check_k(k)
        scored = self.rank(question, k, ranking).scored
        return [self._hit(rank, s) for rank, s in enumerate(scored[:k], start=1)]

    def rank(
        self,
        searched: str,
        k: int,
        ranking: Ranking | None = None,
        asked: Question | None = None,
        referent: str | None = None,
    ) -> Ranked:
        """Candidates for ``searched`` scored by ``ranking``, best first; the first max(k, depth) reranked
        and read. ``asked``: the question as the person asked it (a follow-up without its context);
        ``referent``: the person it is about, when it asks for someone's email, phone or role."""
        ranking = ranking or self.ranking
        self.refresh()
        loaded = self._loaded  # one consistent snapshot even if a refresh happens meanwhile
        query = self.embedder.encode_query(searched)  # one pass serves every stage
        question_pieces = Pieces.of(query, self.embedder.word_piece_mask)
        ranked = self._first_stage(loaded.reader, searched, query.vector, k, ranking)
        depth = max(ranking.rerank_depth, k)
        if ranking.rerank is not None:
            ranked = self._rerank(loaded, question_pieces, ranked[:depth], ranking.rerank) + ranked[depth:]
        if ranking.reader is not None:
            asked = asked or analyse(searched)
            focus = _rows_of(question_pieces, searched, asked.focus)
            ranked = self._read(asked, ranked[:depth], ranking.reader, referent, focus) + ranked[depth:]
        return Ranked(ranked, question_pieces, loaded.reader)

    def _read(
        self,
        question: Question,
        head: list[Scored],
        weights: ReaderWeights,
        referent: str | None,
        focus: np.ndarray | None,
    ) -> list[Scored]:
        """Look in each passage of the head for the words that answer; rank the head again by what was found.

        A span counts only in a sentence nearly as relevant as the best one of the head, and a span of a
        fallback kind (an organisation for "who") only when no passage holds one of the kind asked for."""
        evidence = [Evidence(s.passage.text, s.passage.sentences, s.sentence_relevance, s.match, focus) for s in head]
        floor = max((float(sentence_scores(question, e, weights).max()) for e in evidence if e.sentences), default=0.0)
        found = [read_passage(question, e, weights, referent, floor=floor - weights.slack) for e in evidence]
        kinds = ANSWERING_SPANS.get(question.expects, ())
        if kinds and any(f.span is not None and f.span.kind == kinds[0] for f in found):
            found = [
                f
                if f.span is None or f.span.kind == kinds[0]
                else read_passage(question, e, weights, referent, kinds[:1], floor - weights.slack)
                for f, e in zip(found, evidence, strict=True)
            ]
        read = [
            dataclasses.replace(
                s,
                found=f,
                best_sentence=f.sentence,
                ranked_score=s.score,
                score=(s.score + weights.reorder * f.score) / (1 + weights.reorder),
            )
            for s, f in zip(head, found, strict=True)
        ]
        return sorted(read, key=lambda s: -s.score)

    def _first_stage(
        self, reader: StoreReader, question: str, query: np.ndarray, k: int, ranking: Ranking
    ) -> list[Scored]:
        """Dense and keyword candidates, each scored from its vectors and keywords, best first."""
        n = max(ranking.candidates, k)
        lexical: dict[int, float] = {}
        if ranking.first.lexical:
            keywords = reader.keyword_search(question, n)
            lexical = dict(zip(keywords.keys.tolist(), keywords.scores.tolist(), strict=True))
        scored = []
        for candidate in reader.search(
            query, n if ranking.first.dense or ranking.first.sentence else 0, also=list(lexical)
        ):
            cosines = candidate.sentence_vectors @ query
            best = int(np.argmax(cosines)) if len(cosines) else 0
            sentence = float(cosines[best]) if len(cosines) else candidate.dense
            keyword = lexical.get(candidate.key, 0.0)
            score = ranking.first.score(candidate.dense, sentence, keyword)
            scored.append(Scored(candidate, score, sentence, keyword, cosines, best))
        return sorted(scored, key=lambda s: -s.score)

    def _rerank(self, loaded: Loaded, question: Pieces, head: list[Scored], weights: Weights) -> list[Scored]:
        """Rescore the head with token-level matching; the answer sentence becomes the one
        best matched by both its vector and its word pieces."""
        pieces = loaded.reader.pieces([s.candidate.key for s in head])
        matches = token_matches(question, [s.passage for s in head], pieces, loaded.piece_idf)
        rescored = []
        for scored, match in zip(head, matches, strict=True):
            best = scored.best_sentence
            if len(match.sentence_scores) and len(match.sentence_scores) == len(scored.sentence_cosines):
                best = int(np.argmax(scored.sentence_cosines + match.sentence_scores))
            score = weights.score(scored.candidate.dense, scored.sentence, scored.lexical, match.score)
            rescored.append(dataclasses.replace(scored, best_sentence=best, score=score, match=match))
        return sorted(rescored, key=lambda s: -s.score)

    def answer(
        self, question: str, k: int = 5, history: list[str] | tuple[str, ...] = (), ranking: Ranking | None = None
    ) -> Answer:
        """Retrieve and read for one turn of a conversation, and decide whether anything answers it."""
        question, k = check_question(question), check_k(k)
        history = [check_question(h) for h in history]
        searched = with_context(question, history)
        ranking = ranking or self.ranking
        asked = analyse(question)
        referent = self._referent(asked, history, ranking)
        ranked = self.rank(searched, k, ranking, asked, referent)
        scored = ranked.scored[:k]
        hits = [self._hit(rank, s) for rank, s in enumerate(scored, start=1)]
        if not hits:
            return Answer(question, searched, hits, found=False, why_not="The index holds no passage.")
        verdict = self._judge(asked, ranked, referent, asked_at=len(searched) - len(question))
        span = self._span(asked, scored[0]) if verdict.found else None
        if span is not None and span.kind == "phrase":
            # The model read the whole passage: the sentence holding its words is the answering one.
            holding = scored[0].passage.sentence_at(span.start)
            if holding is not None and holding != scored[0].best_sentence:
                hits[0] = self._hit(1, dataclasses.replace(scored[0], best_sentence=holding))
        short = self._short_answer(span, scored[0], hits[0]) if span is not None else None
        return Answer(question, searched, hits, verdict.found, short, verdict.why_not)

    def _judge(self, asked: Question, ranked: Ranked, referent: str | None, asked_at: int) -> Verdict:
        """Whether the best passage answers (qa.refusal). The names the question gives must be in that
        passage, its article's title or its opening passage (where a press release's dateline names the
        place): named elsewhere in the article, they are about something else. "Combien de PCR étaient
        actifs lors de la quatrième réunion mondiale à Lima ?" is not answered by "Aujourd'hui, 18 PCR
        sont actifs", though the article mentions Lima further on."""
        best = ranked.scored[0]
        entry = ranked.reader.manifest.documents.get(best.passage.doc_id)
        opening = passage_key(entry.passage_ids[0]) if entry else best.candidate.key
        keys = list(dict.fromkeys([opening, best.candidate.key]))
        passages = list(ranked.reader.passages(keys))
        article = best.passage.title + "\n" + "\n".join(p.text for p in passages)
        pieces = article_pieces(ranked.reader.pieces(keys))
        score = best.ranked_score if best.found is not None else best.score
        return judge(asked, score, article, best.found, referent, ranked.question_pieces, pieces, asked_at)

    def _referent(self, asked: Question, history: list[str], ranking: Ranking) -> str | None:
        """Whose email, phone or role is asked for: a person the question names, or the person who
        answered the previous question when this one refers back to it ("What is his email?")."""
        if asked.expects not in (*OWNED, "contact"):
            return None
        named = [e for e in asked.entities if looks_like_person(e)]
        if named:
            return named[0]
        if history and refers_back(asked.text):
            previous = self.answer(history[-1], history=history[-2:-1], ranking=ranking)
            short = previous.short_answer
            if short is not None and short.kind == "person":
                return short.text.split(",")[0]
        return None

    def _span(self, asked: Question, scored: Scored) -> Span | None:
        """The short answer's span in the best passage: the reader's span of the kind asked for, or for an
        open question the words the extractive model points at."""
        span = scored.found.span if scored.found else None
        return span if span is not None else self._phrase(asked, scored)

    def _short_answer(self, span: Span, scored: Scored, hit: Hit) -> ShortAnswer:
        passage = scored.passage
        start, end = passage.original_span(span.start, span.end)
        citation = dataclasses.replace(hit.citation, start=start, end=end, lines=passage.lines_of(start, end))
        return ShortAnswer(passage.text[span.start : span.end], span.kind, hit.rank, citation)

    def _phrase(self, asked: Question, scored: Scored) -> Span | None:
        """For an open question, the words of the passage the extractive model points at (qa.extractor)."""
        if asked.expects != "phrase" or self.extractor is None:
            return None
        try:
            extractor = self.extractor()
        except ModelError as exc:  # a broken install: the sentence still answers
            log.warning("%s: the sentence is the answer", exc)
            return None
        found = extractor.extract(asked.text, scored.passage.text)
        return Span(found.start, found.end, "phrase") if found else None

    def _hit(self, rank: int, scored: Scored) -> Hit:
        passage = scored.passage
        path_in_corpus(self.corpus_dir, passage.doc_id)  # refuses ids that leave the corpus
        span = passage.sentences[scored.best_sentence] if passage.sentences else (0, len(passage.text))
        return Hit(
            rank=rank,
            score=round(float(scored.score), 4),
            passage_id=passage.passage_id,
            text=passage.text,
            answer=passage.text[span[0] : span[1]],
            answer_span=span,
            citation=Citation(
                doc_id=passage.doc_id,
                title=passage.title,
                path=(self.corpus_dir / split_doc_id(passage.doc_id)[0]).as_posix(),
                start=passage.start,
                end=passage.end,
                lines=(passage.line_start, passage.line_end),
                page=passage.page,
            ),
        )


def _rows_of(pieces: Pieces, text: str, words: str | None) -> np.ndarray | None:
    """Which of ``pieces`` (read from ``text``) make up ``words``, at their last occurrence."""
    start = text.rfind(words) if words else -1
    if start < 0 or words is None:
        return None
    return (pieces.ends > start) & (pieces.ends <= start + len(words))


@functools.lru_cache(maxsize=4)
def _cached_retriever(store: str, corpus_dir: Path, model: str, backend: str) -> Retriever:
    return Retriever.open(store, corpus_dir, model, backend)


def retrieve(
    question: str,
    k: int = 5,
    store: str | Path = DEFAULT_STORE,
    corpus_dir: str | Path = DEFAULT_CORPUS_DIR,
    model: str = DEFAULT_MODEL,
    backend: str = DEFAULT_BACKEND,
    ranking: Ranking | None = None,
) -> list[Hit]:
    """The ``k`` passages that best answer ``question``, best first, each with its citation.

    The index in ``store`` is built from ``corpus_dir`` on first use and kept
    loaded for later calls. ``ranking`` changes how passages are ranked for this call only.
    """
    question = check_question(question)
    return _cached_retriever(str(store), Path(corpus_dir), model, backend).retrieve(question, k, ranking)
