"""``route.parse_pairs``: the pairs ``urllib.parse.parse_qsl`` gives (blank values kept,
strict UTF-8), for any text; what it refuses, refused as MalformedQueryString."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cfn_gateway import errors
from cfn_gateway.middleware.route import parse_pairs

# Text made of what matters to the split: separators, plus signs, escapes good and bad.
PIECES = st.sampled_from(["&", "=", "+", "%", "%20", "%2B", "%3D", "%26", "%C3%A9", "%E9",
                          "%zz", "%4", "a", "B.member.1", " ", "é", ";", "~"])


def reference(text: str) -> list[tuple[str, str]] | type[errors.MalformedQueryString]:
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return errors.MalformedQueryString


def ours(text: str | bytes) -> list[tuple[str, str]] | type[errors.MalformedQueryString]:
    try:
        return parse_pairs(text)
    except errors.MalformedQueryString:
        return errors.MalformedQueryString


@given(st.lists(PIECES, max_size=30).map("".join))
@example("")
@example("&&a&=&b=&=c&d==e+f%2B%3d")
@example("Action=PutMetricData&MetricData.member.1.Value=1.5&Unit=")
@example("a=%E9")
def test_the_pairs_parse_qsl_gives(text):
    assert ours(text) == reference(text)
    assert ours(text.encode()) == reference(text)


def test_bytes_that_are_not_utf8_are_malformed():
    with pytest.raises(errors.MalformedQueryString):
        parse_pairs(b"Action=\xff")
