"""Model ``pattern`` constraints (Java regular expressions) as compiled Python patterns.

The models' patterns are written for ``java.util.regex`` and AWS matches them against the
whole value.  Python's ``re`` differs in three ways that occur in these models, which the
translation handles:

- ``\\p{L}``-style Unicode categories (and ``\\P{..}``) do not exist: they become explicit
  code-point ranges computed from ``unicodedata`` (once per category, on first use);
- a UTF-16 surrogate pair such as ``\\uD800\\uDC00`` means one supplementary code point;
- ``.`` excludes every Java line terminator, not only ``\\n``.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

_LINE_TERMINATORS = "\n\r\u0085\u2028\u2029"
_CATEGORY = re.compile(r"\\([pP])\{(?:Is)?([A-Za-z]{1,2})\}")
_SURROGATE_PAIR = re.compile(r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", re.IGNORECASE)


@functools.cache
def compiled(pattern: str) -> re.Pattern[str]:
    """The model pattern ``pattern`` compiled for ``fullmatch``."""
    return re.compile(translate(pattern), re.DOTALL)


def uses_categories(pattern: str) -> bool:
    """Whether the pattern names Unicode categories (the first compile of those is slow)."""
    return _CATEGORY.search(pattern) is not None


def matches(pattern: str, value: str) -> bool:
    return compiled(pattern).fullmatch(value) is not None


def translate(pattern: str) -> str:
    """Rewrite a Java pattern into an equivalent Python one."""
    pattern = _SURROGATE_PAIR.sub(_join_surrogates, pattern)
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            category = _CATEGORY.match(pattern, i)
            if category:
                ranges = _category_ranges(category.group(2), category.group(1) == "P")
                out.append(ranges if in_class else f"[{ranges}]")
                i = category.end()
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            if pattern[i + 1:i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1:i + 2] == "]":  # a literal ] first in a class
                out.append(r"\]")
                i += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        elif char == "[" and in_class:
            out.append(r"\[")  # Java class unions/intersections do not occur in the models
        elif char == "." and not in_class:
            out.append(f"[^{_LINE_TERMINATORS}]")
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _join_surrogates(match: re.Match[str]) -> str:
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    code_point = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
    return f"\\U{code_point:08X}"


@functools.cache
def _category_runs() -> tuple[tuple[int, int, str], ...]:
    """Every code point grouped into runs of one general category: (first, last, category)."""
    runs: list[tuple[int, int, str]] = []
    start, current = 0, unicodedata.category("\x00")
    for code_point in range(1, sys.maxunicode + 1):
        category = unicodedata.category(chr(code_point))
        if category != current:
            runs.append((start, code_point - 1, current))
            start, current = code_point, category
    runs.append((start, sys.maxunicode, current))
    return tuple(runs)


@functools.cache
def _category_ranges(category: str, negated: bool = False) -> str:
    """A character-class body covering every code point of a Unicode general category
    (or, negated, every code point outside it)."""
    merged: list[list[int]] = []
    for first, last, name in _category_runs():
        if name.startswith(category) != negated:
            if merged and merged[-1][1] == first - 1:
                merged[-1][1] = last
            else:
                merged.append([first, last])
    return "".join(_class_range(first, last) for first, last in merged)


def _class_range(first: int, last: int) -> str:
    if first == last:
        return f"\\U{first:08X}"
    return f"\\U{first:08X}-\\U{last:08X}"
