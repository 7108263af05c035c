"""Every limit of the program, in one place, with the check that enforces it.

Two limits can be changed from the environment (QA_MAX_FILE_MB, QA_MAX_UPLOAD_MB), and so can the
Ray cluster that `qa index` embeds on (QA_RAY).
They are read when used, not when this module is imported: a bad value then
stops only what needs it, with a message naming the setting, and every other
command still runs. ``MAX_FILE_BYTES`` and ``MAX_UPLOAD_BYTES`` are computed
on each access (see ``__getattr__``) for the modules that import them by name.
"""

from __future__ import annotations

import math
import operator
import os

# A question longer than this is refused everywhere (CLI, library, chat): the model
# reads about 512 tokens anyway, and a pasted page is not a question.
MAX_QUESTION_CHARS = 2_000

# Article files larger than this are skipped with a warning naming the file and the
# limit (QA_MAX_FILE_MB or `qa index --max-file-mb` change it): embedding a 50 MB
# file would hold the index lock for hours. In a collection (.jsonl) the limit
# applies to each record, an article of its own.
DEFAULT_MAX_FILE_MB = 20.0
FILE_SETTING = "QA_MAX_FILE_MB"

# Files added from the browser: each at most this size (QA_MAX_UPLOAD_MB changes it, never above
# the file limit, which the indexer would skip), and at most this many files at once.
DEFAULT_MAX_UPLOAD_MB = 10.0
UPLOAD_SETTING = "QA_MAX_UPLOAD_MB"
MAX_UPLOAD_FILES = 20

# The Ray cluster `qa index` spreads the embedding over (QA_RAY or `qa index --ray`; qa/cluster.py):
# "host:port", "ray://host:port", "auto" (the cluster this machine belongs to) or "local" (one of its own).
RAY_SETTING = "QA_RAY"
MAX_RAY_ADDRESS_CHARS = 300

# A size setting above this (1 TiB) is refused: no article is that large, and reading
# sizes beyond it stop fitting the C integers the operating system takes.
LARGEST_SETTING_MB = float(1 << 20)

# Passages per question that callers of the library and `qa ask` may ask for.
MAX_K = 50

# The chat, which shows fewer passages than the library allows (each is read on screen).
DEFAULT_CHAT_SOURCES = 3
MAX_CHAT_SOURCES = 10
MAX_CHAT_HISTORY = 20  # earlier questions looked at (a follow-up only uses the last one)
MAX_SAVED_MESSAGES = 100  # messages kept in the browser (50 questions and their replies)
MAX_SHOWN_QUESTION_CHARS = 300  # a longer question is shown cut in the conversation
MAX_UPLOAD_NAME_CHARS = 80  # the stem of a file saved from the browser
MAX_LISTED_ARTICLES = 1000  # rows of "Articles in the index"
UPLOAD_INDEX_WAIT_SECONDS = 60.0  # how long an upload waits for another indexing run (e.g. `qa index --watch`)

# How much of a rejected input an error message repeats.
SHOWN_INPUT_CHARS = 200


class QuestionError(ValueError):
    """A question that cannot be answered as asked (empty, too long, not text)."""


class SettingError(ValueError):
    """A setting (an environment variable or an option) whose value cannot be used; the message names it."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting, self.problem = setting, problem


def megabytes_to_bytes(value: object, setting: str) -> int:
    """Bytes of ``value`` megabytes (a number, or text such as "20" or "2.5"), checked: a finite
    number more than 0 and at most ``LARGEST_SETTING_MB``. ``setting`` names it in the error."""
    try:
        mb = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise SettingError(setting, f"not a number of megabytes: {shown(value)}") from None
    if not math.isfinite(mb):
        raise SettingError(setting, f"must be a finite number of megabytes, not {shown(value)}")
    if not mb > 0:
        raise SettingError(setting, f"must be more than 0, not {shown(value)}")
    if mb > LARGEST_SETTING_MB:
        raise SettingError(setting, f"must be at most {LARGEST_SETTING_MB:g} megabytes, not {shown(value)}")
    return int(mb * 2**20)


def max_file_bytes() -> int:
    """The size limit of an article file (and of a collection record): QA_MAX_FILE_MB, else 20 MB."""
    return megabytes_to_bytes(os.environ.get(FILE_SETTING, DEFAULT_MAX_FILE_MB), FILE_SETTING)


def max_upload_bytes() -> int:
    """The size limit of a file added from the browser: QA_MAX_UPLOAD_MB, else 10 MB; never above
    the file limit (the indexer would skip the file)."""
    upload = megabytes_to_bytes(os.environ.get(UPLOAD_SETTING, DEFAULT_MAX_UPLOAD_MB), UPLOAD_SETTING)
    return min(max_file_bytes(), upload)


def ray_address(value: object, setting: str = RAY_SETTING) -> str:
    """The address of a Ray cluster, checked: one word of at most ``MAX_RAY_ADDRESS_CHARS`` characters.
    Whether a cluster answers there is known only when `qa index` joins it."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_RAY_ADDRESS_CHARS or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise SettingError(
            setting, f'not a Ray cluster address ("host:port", "ray://host:port", "auto" or "local"): {shown(value)}'
        )
    return text


def ray_cluster() -> str | None:
    """The Ray cluster of $QA_RAY, or None (embed on this machine) when it is unset or empty."""
    value = os.environ.get(RAY_SETTING, "")
    return ray_address(value) if value.strip() else None


def __getattr__(name: str) -> int:
    """``MAX_FILE_BYTES`` and ``MAX_UPLOAD_BYTES``, read from the environment when asked for."""
    if name == "MAX_FILE_BYTES":
        return max_file_bytes()
    if name == "MAX_UPLOAD_BYTES":
        return max_upload_bytes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def shown(value: object) -> str:
    """``value`` as an error message repeats it: its repr, cut to ``SHOWN_INPUT_CHARS``
    with its full length said (a pasted page, or a number of 10^5 digits, is not echoed)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"a number of about {int(value.bit_length() * math.log10(2)) + 1:,} digits"
    text = repr(value)
    if len(text) <= SHOWN_INPUT_CHARS:
        return text
    length = f"{len(value):,} characters" if isinstance(value, str | bytes) else f"{len(text):,} characters shown"
    return f"{text[:SHOWN_INPUT_CHARS]}… ({length})"


def check_question(question: object) -> str:
    """The question, stripped; raises QuestionError with a message for the person who asked."""
    if isinstance(question, bytes):
        try:
            question = question.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QuestionError(f"the question is not valid UTF-8 text (byte {exc.start})") from None
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, not {type(question).__name__}")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: undecodable bytes smuggled in by the terminal or a client
        raise QuestionError("the question holds bytes that are not valid UTF-8 text") from None
    question = question.strip()
    if not question:
        raise QuestionError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}")
    if not any(ch.isalnum() for ch in question):
        # Emoji, flags (pairs of regional indicator symbols), punctuation: nothing to look for. The model
        # reads some of them as words (a flag close to its country's name), which gave answers to "🇲🇳".
        raise QuestionError("the question has no words in it, only symbols, emoji or punctuation")
    return question


def check_k(k: object) -> int:
    """The number of passages asked for: a whole number from 1 to ``MAX_K`` (an int, a float
    without a fraction, or its text); raises QuestionError saying what is wrong."""
    value = _whole_number(k)
    if value is None:
        raise QuestionError(f"the number of passages must be a whole number, not {shown(k)}")
    if not 1 <= value <= MAX_K:
        raise QuestionError(f"the number of passages must be between 1 and {MAX_K}, not {shown(value)}")
    return value


def _whole_number(k: object) -> int | None:
    if isinstance(k, bool):  # True is an int to Python, not a number of passages to a person
        return None
    try:
        return operator.index(k)  # type: ignore[arg-type]  # int, numpy integers
    except TypeError:
        pass
    if isinstance(k, str):
        text = k.strip()
        if len(text) > 20:  # int() of 10^5 digits is slow, and no such count is meant
            return None
        try:
            return int(text)
        except ValueError:
            pass
        k = text
    try:
        number = float(k)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(number) or not number.is_integer():
        return None
    return int(number)
