"""The answer path: a Retriever wires the stages and keeps their models loaded.

    search (qa.search) → rerank (qa.rerank) → read (qa.read) → judge (qa.judge) → cite (qa.cite)

Each stage takes the ranked list of the one before and returns it with its own evidence added. The
weights of each stage, and which stages run, are a :class:`~qa.ranking.Ranking`, chosen per call.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .answer import Answer, Hit, read_as, refers_back, with_context
from .articles import articles_of, naming_first
from .chunking import ChunkSettings
from .cite import cite, cite_short_answer
from .embed import DEFAULT_BACKEND, DEFAULT_MODEL, Embedder, ModelError, Pieces, get_embedder
from .indexer import encode_passages, index_settings
from .ingest import DEFAULT_CORPUS_DIR
from .ingest.dates import DateRange
from .judge import Judging, Verdict, counts_what_is_asked, judge, missing_names
from .limits import MAX_QUESTION_CHARS, check_k, check_question
from .question import OWNED, Question, analyse, names_theme
from .ranking import Ranking, stage_order
from .read import read
from .reader_model import ReaderModel, default_reader_model, load_in_background
from .recency import judged_answering, newer_first
from .rerank import rerank, sharpen
from .rule_reader import QuestionParts
from .search import Scored, first_stage
from .spans import looks_like_person
from .store import (
    DEFAULT_STORE,
    EncodedPassage,
    IndexMismatch,
    IndexMissing,
    IndexUnusable,
    Store,
    StoreReader,
    open_store,
)

log = logging.getLogger(__name__)

NAMED_DEPTH = 5  # the best passages among which those holding the question's names are put first


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
    """Keeps a store version and the models loaded; picks up a newer version when one is written."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        corpus_dir: Path,
        ranking: Ranking | None = None,
        reader_model: Callable[[], ReaderModel] | None = None,
        judging: Judging = Judging(),
    ):
        self.store = store
        self.reader_model = reader_model  # loads the reader model when first needed; None: no reading
        self.embedder = embedder
        self.corpus_dir = Path(corpus_dir)
        self.ranking = ranking or Ranking()
        self.judging = judging
        self._reload_lock = threading.Lock()
        self._refused: str | None = None  # a version already found unusable: not loaded again
        self._people: dict[tuple, str | None] = {}  # who answered earlier turns (``_who_answered``)
        # A question is many small matrix products (20 × 384 by 384 × 150): a second BLAS thread only adds
        # waiting, 15 times over on a busy two-core machine. The models run on onnxruntime's own threads.
        threadpool_limits(limits=1, user_api="blas")
        self._loaded = self._load(store.open_reader())

    def _load(self, reader: StoreReader) -> Loaded:
        wanted = replace(index_settings(self.embedder, ChunkSettings()), chunking=reader.manifest.settings.chunking)
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
    ) -> Retriever:
        """Open the index in ``store`` (``qa index``, or :func:`qa.indexer.update_index`, builds it). The reader
        model reads the best passages, except with the ``hash`` test backend, which goes without models."""
        store = open_store(store)
        embedder = get_embedder(model, backend)
        manifest = store.read_manifest()
        if manifest is None:
            raise IndexMissing(f"no index in {store.location} (run `qa index` to build it)")
        if manifest.settings.chunking != chunking.as_dict():
            raise IndexMismatch(
                f"{store.location}: index built with chunking {manifest.settings.chunking}, asked for "
                f"{chunking.as_dict()}; run `qa index` to rebuild it"
            )
        return cls(store, embedder, corpus_dir, reader_model=None if backend == "hash" else default_reader_model)

    @staticmethod
    def start_loading_for(question: str, backend: str = DEFAULT_BACKEND, ranking: Ranking | None = None) -> None:
        """Start loading the default reader model now if ``question`` will need it, so that it loads while
        the index and the embedding model do (two cores): a one-off ``qa ask`` waits for the slower of
        the two, not for both."""
        read = (ranking or Ranking()).read
        if backend == "hash" or read is None or len(question) > MAX_QUESTION_CHARS:  # the answer refuses it
            return
        if read.model_reads(analyse(question)):
            load_in_background(default_reader_model)

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

    def retrieve(
        self,
        question: str,
        k: int = 5,
        ranking: Ranking | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[Hit]:
        """The ``k`` passages that best answer ``question``, best first. ``since``, ``until`` (YYYY-MM-DD,
        both days included): only articles dated in that range (an article without a date is left out)."""
        question, k = check_question(question), check_k(k)
        ranked = self.rank(question, k, ranking, dates=DateRange.of(since, until))
        return [self._cite(rank, s, ranked) for rank, s in enumerate(ranked.scored[:k], start=1)]

    def _cite(self, rank: int, scored: Scored, ranked: Ranked) -> Hit:
        return cite(rank, scored, self.corpus_dir, ranked.reader.manifest.date_of(scored.passage.doc_id))

    def rank(
        self,
        searched: str,
        k: int,
        ranking: Ranking | None = None,
        asked: Question | None = None,
        referent: str | None = None,
        dates: DateRange | None = None,
    ) -> Ranked:
        """Candidates for ``searched``, through the stages of ``ranking``, best first; the first
        max(k, depth) reranked and read. ``asked``: the question as the person asked it (a follow-up
        without its context); ``referent``: the person it is about, when it asks for someone's email,
        phone or role; ``dates``: only passages of articles dated in that range."""
        ranking = ranking or self.ranking
        self.refresh()
        loaded = self._loaded  # one consistent snapshot even if a refresh happens meanwhile
        query = self.embedder.encode_query(searched)  # one pass serves every stage
        question_pieces = Pieces.of(query, self.embedder.word_piece_mask)
        first = first_stage(loaded.reader, searched, query.vector, max(ranking.candidates, k), ranking.first, dates)
        depth = max(ranking.depth, k)
        rescored: dict[int, Scored] = {}

        def token_scores(head: list[int]) -> list[float]:
            assert ranking.rerank is not None
            pieces = loaded.reader.pieces([first[i].candidate.key for i in head])
            again = rerank([first[i] for i in head], question_pieces, pieces, loaded.piece_idf, ranking.rerank)
            rescored.update(zip(head, again, strict=True))
            return [s.score for s in again]

        second = token_scores if ranking.rerank is not None else None
        asked = asked or analyse(searched)
        asked_at = max(0, len(searched) - len(asked.text))
        if self.judging.names:  # passages whose article holds the question's names are the ones reranked and read
            pieces = question_pieces if ranking.rerank is not None else None  # (only reranking reads pieces)
            ordering = naming_first(asked, first, loaded.reader, pieces, asked_at)
        else:
            ordering = [s.score for s in first]
        ordered = [rescored.get(i, first[i]) for i in stage_order(ordering, depth, second)]
        head, tail = ordered[:depth], ordered[depth:]
        if ranking.rerank is not None:
            reread = self._reread(head[: ranking.sharpened])
            head = sharpen(head, reread, question_pieces, query.vector, loaded.piece_idf, ranking.rerank)
        if ranking.read is not None and head:
            parts = QuestionParts.of(asked, question_pieces, searched)
            read_all = ranking.read.every or bool(ranking.read.answers) or self.judging.answers_floor is not None
            # loaded only when it reads: every passage, or the best one of an open question
            model = self._reader_model() if read_all or ranking.read.model_reads(asked) else None
            head = read(model, asked, head, ranking.read, referent, read_as(asked, searched), parts, read_all)
        return Ranked(head + tail, question_pieces, loaded.reader)

    def _reread(self, best: list[Scored]) -> dict[int, EncodedPassage]:
        """The passages among ``best`` whose stored pieces are coarse, read again by the model, by position."""
        coarse = [n for n, s in enumerate(best) if s.match is not None and s.match.pieces.coarse]
        encoded = encode_passages(self.embedder, [best[n].passage for n in coarse]) if coarse else []
        return dict(zip(coarse, encoded, strict=True))

    def _reader_model(self) -> ReaderModel | None:
        if self.reader_model is None:
            return None
        try:
            return self.reader_model()
        except ModelError as exc:  # a broken install: the search still ranks, the sentence answers
            log.warning("%s: passages are ranked without it", exc)
            return None

    def answer(
        self,
        question: str,
        k: int = 5,
        history: list[str] | tuple[str, ...] = (),
        ranking: Ranking | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Answer:
        """Retrieve and read for one turn of a conversation, and decide whether anything answers it.
        ``since``, ``until`` (YYYY-MM-DD, both days included): only articles dated in that range (an
        article without a date is left out)."""
        question, k = check_question(question), check_k(k)
        dates = DateRange.of(since, until)
        history = tuple(check_question(h) for h in history)
        searched = with_context(question, list(history))
        ranking = ranking or self.ranking
        asked = analyse(question)
        referent = self._referent(asked, history, ranking, dates)
        ranked = self.rank(searched, k, ranking, asked, referent, dates)
        if not ranked.scored and dates is not None:
            why = f"No article of the index is dated {_range_words(dates)}."
            return Answer(question, searched, [], found=False, why_not=why)
        if not ranked.scored:
            return Answer(question, searched, [], found=False, why_not="The index holds no passage.")
        asked_at = len(searched) - len(question)
        ranked, verdict = self._judge(asked, ranked, referent, asked_at)
        scored, older = ranked.scored[:k], None
        if verdict.found:  # dated articles answering otherwise: the newest first, an older one named (qa.recency)
            about = judged_answering(
                asked, functools.partial(articles_of, ranked.reader, read=ranked.scored), referent, self.judging
            )
            newer = newer_first(scored, ranked.reader.manifest.date_of, about)
            scored, older = newer.scored, newer.older
        hits = [self._cite(rank, s, ranked) for rank, s in enumerate(scored, start=1)]
        span = scored[0].span if verdict.found else None
        short = cite_short_answer(span, scored[0], hits[0]) if span is not None else None
        differs = None
        if older is not None and (older_span := scored[older].span) is not None:
            differs = cite_short_answer(older_span, scored[older], hits[older])
        answer = Answer(question, searched, hits, verdict.found, short, verdict.why_not, differs)
        self._remember(question, history, ranking, answer, dates)
        return answer

    def _judge(self, asked: Question, ranked: Ranked, referent: str | None, asked_at: int) -> tuple[Ranked, Verdict]:
        """Whether the best passage answers (qa.judge), once the passages whose article holds every name the
        question gives are put first among the best few: "Who leads IOM Mongolia?" is about Mongolia, however
        close a press release about another office comes. The names must be in the passage, its article's
        title or its opening passage (where a press release's dateline names the place): named elsewhere in
        the article, they are about something else. "Combien de PCR étaient actifs lors de la quatrième
        réunion mondiale à Lima ?" is not answered by "Aujourd'hui, 18 PCR sont actifs", though the article
        mentions Lima further on."""
        head = [_themed(s) for s in ranked.scored[:NAMED_DEPTH]] if asked.theme else ranked.scored[:NAMED_DEPTH]
        articles = articles_of(ranked.reader, head, ranked.scored)
        lacking = [False] * len(head)
        if self.judging.names:
            for n, scored in enumerate(head):
                text, pieces = articles[scored.candidate.key]
                lacking[n] = bool(missing_names(asked, text, ranked.question_pieces, pieces, asked_at))
        # a theme is given by a sentence that says "theme": the passages holding one come next after the names;
        # a count, by a number counting what is asked ("48 participants", not the dateline's "trois jours"): the
        # best passage keeps its place if its count may be of what is asked, another passes it only if surely
        themeless = [asked.theme and not names_theme(s.answering_sentence) for s in head]
        uncounted = [
            bool(asked.focus)
            and not asked.measures  # (what a sum measures is weighed with the words before it, less surely)
            and not counts_what_is_asked(asked, s.found, articles[s.candidate.key][0], self.judging, surely=n > 0)
            for n, s in enumerate(head)
        ]
        flags = list(zip(lacking, themeless, uncounted, strict=True))
        order = list(range(len(head)))
        if flags[0] != min(flags):
            order.sort(key=flags.__getitem__)  # stable: ties keep their rank
        ranked = replace(ranked, scored=[head[n] for n in order] + ranked.scored[NAMED_DEPTH:])
        best = ranked.scored[0]
        article, pieces = articles[best.candidate.key]
        searched_score = best.score if best.searched_score is None else best.searched_score
        verdict = judge(
            asked, searched_score, best.reading, best.found, article, referent,
            ranked.question_pieces, pieces, asked_at, self.judging, best.answering_sentence,
        )  # fmt: skip
        return ranked, verdict

    def _referent(
        self, asked: Question, history: tuple[str, ...], ranking: Ranking, dates: DateRange | None = None
    ) -> str | None:
        """Whose email, phone or role is asked for: a person the question names, or the person who
        answered the previous question when this one refers back to it ("What is his email?")."""
        if asked.expects not in (*OWNED, "contact"):
            return None
        named = [e for e in asked.entities if looks_like_person(e)]
        if named:
            return named[0]
        if history and refers_back(asked.text):
            return self._who_answered(history[-1], history[-2:-1], ranking, dates)
        return None

    def _who_answered(
        self, question: str, history: tuple[str, ...], ranking: Ranking, dates: DateRange | None = None
    ) -> str | None:
        """The person answering an earlier question of the conversation; remembered per index version,
        since the chat asks about the same turn again at each follow-up."""
        key = (self.reader.version, question, history, ranking, dates)
        if key not in self._people:
            since, until = (dates.since, dates.until) if dates else (None, None)
            self.answer(question, history=history, ranking=ranking, since=since, until=until)
        return self._people.get(key)

    def _remember(
        self,
        question: str,
        history: tuple[str, ...],
        ranking: Ranking,
        answer: Answer,
        dates: DateRange | None = None,
    ) -> None:
        if len(self._people) >= 256:
            self._people.clear()
        short = answer.short_answer
        person = short.text.split(",")[0] if short is not None and short.kind == "person" else None
        self._people[(self.reader.version, question, history, ranking, dates)] = person


def _range_words(dates: DateRange) -> str:
    """ "from 2017-01-01 to 2017-12-31", "since 2017-01-01", "until 2017-12-31"."""
    if dates.since and dates.until:
        return f"from {dates.since} to {dates.until}"
    return f"since {dates.since}" if dates.since else f"until {dates.until}"


@functools.lru_cache(maxsize=4)
def _cached_retriever(store: str, corpus_dir: Path, model: str, backend: str) -> Retriever:
    from .indexer import update_index

    opened = open_store(store)
    if opened.read_manifest() is None:
        update_index(corpus_dir, opened, model, backend, ChunkSettings(), show_progress=True)
    return Retriever.open(opened, corpus_dir, model, backend)


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


def _themed(scored: Scored) -> Scored:
    """For a question asking a meeting's theme: the passage answered by its first sentence naming a theme,
    with the words read there if they lie in it ("le thème de la réunion était Explorer les défis …"); as
    it was when no sentence of it names one."""
    passage = scored.passage
    if names_theme(scored.answering_sentence):
        return scored
    naming = [n for n, (b, e) in enumerate(passage.sentences) if names_theme(passage.text[b:e])]
    if not naming:
        return scored
    begin, end = passage.sentences[naming[0]]
    span = scored.span if scored.span is not None and begin <= scored.span.start < end else None
    return replace(scored, best_sentence=naming[0], span=span)
