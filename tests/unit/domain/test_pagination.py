"""Pagination tokens: round trip, and refusal of anything tampered with."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain import pagination

SECRET = b"s" * 32


def test_round_trip():
    token = pagination.encode(SECRET, {"p": "project", "a": 500})
    assert pagination.decode(SECRET, token) == {"p": "project", "a": 500}


def test_other_secret_refused():
    token = pagination.encode(SECRET, {"a": 1})
    with pytest.raises(ValueError):
        pagination.decode(b"t" * 32, token)


def test_tampered_body_refused():
    body, signature = pagination.encode(SECRET, {"a": 1}).split(".")
    forged = pagination.encode(b"other", {"a": 2}).split(".")[0]
    with pytest.raises(ValueError):
        pagination.decode(SECRET, f"{forged}.{signature}")
    with pytest.raises(ValueError):
        pagination.decode(SECRET, f"{body}.{signature[:-1]}A")


@pytest.mark.parametrize("token", ["", ".", "a.b.c", "x" * 5000, "é.é", "abc"])
def test_garbage_refused(token):
    with pytest.raises(ValueError):
        pagination.decode(SECRET, token)


@given(st.text(max_size=200))
def test_decode_only_ever_raises_value_error(token):
    with pytest.raises(ValueError):
        pagination.decode(SECRET, token)


def test_digest_is_stable_and_discriminating():
    assert pagination.digest("ns", None, [["A", None]]) == pagination.digest(
        "ns", None, [["A", None]])
    assert pagination.digest("ns", None) != pagination.digest(None, "ns")


def test_page_tokens_are_bound_to_project_and_query():
    from cfn_gateway.domain import pagination

    token = pagination.page_token(b"secret", "p1", "q1", ["a", 3])
    assert pagination.position(b"secret", token, "p1", "q1") == ["a", 3]
    for secret, project, query in ((b"other", "p1", "q1"), (b"secret", "p2", "q1"),
                                   (b"secret", "p1", "q2")):
        with pytest.raises(ValueError):
            pagination.position(secret, token, project, query)
