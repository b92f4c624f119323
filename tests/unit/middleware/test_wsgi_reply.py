"""``middleware.wsgi.reply``: the status line and Content-Length it sends."""

from __future__ import annotations

from cfn_gateway.middleware.wsgi import reply, status_line


def test_status_lines_with_and_without_a_reason_phrase():
    assert status_line(200) == "200 OK"
    assert status_line(400) == "400 Bad Request"
    assert status_line(501) == "501 Not Implemented"
    assert status_line(299) == "299 Unknown"
    assert status_line(200) == "200 OK"  # remembered, the same


def test_reply_replaces_any_content_length():
    started = []
    body = reply(lambda status, headers: started.append((status, headers)), 404,
                 [("Content-Type", "text/xml"), ("content-length", "99")], b"<gone/>")
    assert body == [b"<gone/>"]
    assert started == [("404 Not Found", [("Content-Type", "text/xml"),
                                          ("Content-Length", "7")])]
