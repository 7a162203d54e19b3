"""normalize skips the mention and placeholder regexes when the text has no @ or [: the result is the same."""

from __future__ import annotations

import pytest

from nlp.text import normalize


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("＠联户小助手\u2005[微笑] 好的", "好的"),  # a full-width @ (NFKC makes it @) and a placeholder
        (" 路灯坏了 ", "路灯坏了"),  # neither: only the spaces
        ("[图片]", ""),
        ("x@y.com 好", "x@y.com 好"),  # an e-mail address is no mention
        ("第[1]条", "第 条"),
        ("", ""),
    ],
)
def test_normalize(text, want):
    assert normalize(text) == want
