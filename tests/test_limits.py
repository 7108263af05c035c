"""Every limit in one place: settings read when used, checked, and named when wrong."""

from __future__ import annotations

import numpy as np
import pytest

from qa import limits
from qa.limits import (
    QuestionError,
    SettingError,
    check_k,
    check_question,
    max_file_bytes,
    max_upload_bytes,
    megabytes_to_bytes,
)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("abc", "not a number of megabytes: 'abc'"),
        ("", "not a number of megabytes: ''"),
        ("-5", "must be more than 0, not '-5'"),
        ("0", "must be more than 0, not '0'"),
        ("nan", "must be a finite number of megabytes, not 'nan'"),
        ("inf", "must be a finite number of megabytes, not 'inf'"),
        ("1e400", "must be a finite number of megabytes, not '1e400'"),
        ("1e300", "must be at most 1.04858e+06 megabytes, not '1e300'"),
    ],
)
def test_a_size_setting_is_a_finite_positive_number(value, problem):
    with pytest.raises(SettingError) as raised:
        megabytes_to_bytes(value, "QA_MAX_FILE_MB")
    assert str(raised.value) == f"QA_MAX_FILE_MB: {problem}"
    assert raised.value.setting == "QA_MAX_FILE_MB" and raised.value.problem == problem


def test_size_settings_in_megabytes():
    assert megabytes_to_bytes("20", "x") == 20 * 2**20
    assert megabytes_to_bytes(" 2.5 ", "x") == int(2.5 * 2**20)


def test_the_file_limit_is_read_from_the_environment_when_used(monkeypatch):
    monkeypatch.delenv("QA_MAX_FILE_MB", raising=False)
    assert max_file_bytes() == limits.MAX_FILE_BYTES == 20 * 2**20
    monkeypatch.setenv("QA_MAX_FILE_MB", "3")
    assert max_file_bytes() == limits.MAX_FILE_BYTES == 3 * 2**20
    monkeypatch.setenv("QA_MAX_FILE_MB", "abc")
    with pytest.raises(SettingError, match="^QA_MAX_FILE_MB: not a number of megabytes: 'abc'$"):
        limits.MAX_FILE_BYTES  # noqa: B018
    with pytest.raises(AttributeError):
        limits.NO_SUCH_LIMIT  # noqa: B018


def test_the_upload_limit_is_checked_and_never_above_the_file_limit(monkeypatch):
    monkeypatch.delenv("QA_MAX_FILE_MB", raising=False)
    monkeypatch.delenv("QA_MAX_UPLOAD_MB", raising=False)
    assert max_upload_bytes() == limits.MAX_UPLOAD_BYTES == 10 * 2**20
    monkeypatch.setenv("QA_MAX_UPLOAD_MB", "50")
    assert max_upload_bytes() == 20 * 2**20  # the indexer would skip a larger file
    for bad, problem in [("-5", "must be more than 0"), ("inf", "must be a finite"), ("ten", "not a number")]:
        monkeypatch.setenv("QA_MAX_UPLOAD_MB", bad)
        with pytest.raises(SettingError, match=f"^QA_MAX_UPLOAD_MB: {problem}"):
            max_upload_bytes()


@pytest.mark.parametrize(
    "k",
    [10**400, -(10**5000), float("inf"), 1e400, float("nan"), "1e400", "9" * 5000],
    ids=["10**400", "-10**5000", "inf", "1e400", "nan", "'1e400'", "'9'*5000"],
)
def test_k_far_out_of_range_is_a_short_question_error(k):
    with pytest.raises(QuestionError, match="number of passages") as raised:
        check_k(k)
    assert len(str(raised.value)) < 300


@pytest.mark.parametrize("k", [2.5, True, None, [3], "3 passages"])
def test_k_that_is_not_a_whole_number_is_refused(k):
    with pytest.raises(QuestionError, match="must be a whole number"):
        check_k(k)


def test_k_as_a_whole_number_of_any_kind():
    assert check_k(5) == check_k(5.0) == check_k(" 5 ") == check_k("5.0") == check_k(np.int64(5)) == 5
    assert check_k(limits.MAX_K) == limits.MAX_K
    with pytest.raises(QuestionError, match=f"between 1 and {limits.MAX_K}, not {limits.MAX_K + 1}$"):
        check_k(limits.MAX_K + 1)


def test_the_chat_limits_fit_the_library_limits():
    assert 1 <= limits.DEFAULT_CHAT_SOURCES <= limits.MAX_CHAT_SOURCES <= limits.MAX_K
    assert limits.MAX_SHOWN_QUESTION_CHARS < limits.MAX_QUESTION_CHARS


@pytest.mark.parametrize("question", ["🇲🇳", "🇫🇷 🇲🇳 ?", "\U0001f1f2", "😀", "👍🏽👍🏽", "#️⃣", "?!", " … "])
def test_a_question_of_emoji_flags_or_punctuation_only_is_refused(question):
    with pytest.raises(QuestionError, match="^the question has no words in it, only symbols, emoji or punctuation$"):
        check_question(question)


@pytest.mark.parametrize("question", ["🇲🇳 Who leads IOM Mongolia?", "2024 ?", "北京?", "¿Quién?", "①"])
def test_a_question_with_a_word_or_a_number_is_kept(question):
    assert check_question(f"  {question} ") == question
