"""The vocabulary: every word has an English and a Chinese label, and compares equal to its code."""
from __future__ import annotations

import re

from flask_babel import force_locale

from handlers.vocabulary import VOCABULARIES, CaseStatus, Role, Source, StepKind

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_word_has_an_english_and_a_chinese_label(app):
    with app.test_request_context():
        for vocabulary in VOCABULARIES:
            for word in vocabulary:
                with force_locale("en"):
                    english = word.label
                with force_locale("zh"):
                    chinese = word.label
                assert english and not CJK.search(english), (vocabulary.__name__, word, english)
                assert CJK.search(chinese), (vocabulary.__name__, word, chinese)


def test_one_english_word_may_be_two_chinese_ones(app):
    with app.test_request_context(), force_locale("zh"):
        assert Role.RESIDENT.label == "居民"
        assert Source.RESIDENT.label == "居民上报"


def test_words_are_their_stored_codes():
    assert CaseStatus.CLOSED == "closed"
    assert StepKind("answer") is StepKind.ANSWER
    assert {"handle", "answer"} <= set(StepKind)
    assert StepKind.labelled("approve_budget") == "approve_budget"
