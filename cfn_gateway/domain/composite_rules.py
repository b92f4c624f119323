"""Composite alarm rules: parse, validate and evaluate a PutCompositeAlarm ``AlarmRule``,
explain a composite alarm's state, and time its actions suppressor.

Pure functions over strings, datetimes and the value types of ``domain.alarms``; the API
layer turns a :class:`RuleError` into an AWS ``ValidationError`` and the alarm engine
feeds :func:`evaluate`, :func:`reason` and :func:`suppression` with the children's states.

The language (AWS CloudWatch API reference, PutCompositeAlarm, ``AlarmRule``):

- ``ALARM(name)``, ``OK(name)`` and ``INSUFFICIENT_DATA(name)`` are TRUE when the named
  alarm is in that state; ``TRUE`` and ``FALSE`` are constants; ``AND``, ``OR`` and ``NOT``
  combine them; parentheses group.  Keywords are upper-case only (``and`` is an error).
- Precedence: ``NOT`` binds tightest, then ``AND``, then ``OR``; ``AND`` and ``OR`` are
  left-associative (they are associative anyway), so ``NOT a AND b OR c`` is
  ``((NOT a) AND b) OR c``.
- A function's argument "can be surrounded with double-quotes, but does not have to be".
  Quoted, the name is everything up to the next ``"`` (spaces and parentheses included, no
  escapes).  Unquoted, it ends at the first ``)``, surrounding whitespace is trimmed, and it
  may contain neither ``(`` nor ``"`` (quote such names).
- The argument may be an alarm ARN ``arn:<partition>:cloudwatch:<region>:<account>:alarm:
  <name>``; the alarm referred to is ``<name>``.  An argument starting with ``arn:`` that
  is not such an ARN is an error.
- "The AlarmRule can specify as many as 100 'children' alarms" (:data:`MAX_CHILDREN`,
  distinct names).  "The AlarmRule expression can have as many as 500 elements.  Elements
  are child alarms, TRUE or FALSE statements, and parentheses" (:data:`MAX_ELEMENTS`): here
  every function call, every TRUE/FALSE and every grouping ``(`` and ``)`` counts one
  (a function's own parentheses belong to its element); operators count nothing.
- Length 1 to 10240 characters (the API model checks it; :func:`parse` checks it again).
- Nesting: AWS documents no limit; this module allows :data:`MAX_DEPTH` (100) levels, one
  per enclosing grouping parenthesis or ``NOT``.  It keeps evaluation recursion bounded.
- A rule may not name its own alarm (:func:`check_references`).  AWS's reference notes
  that cycles of composite alarms are *possible* and that evaluation stops on one;
  :func:`find_cycle` finds them so the caller can refuse or stop.

A child alarm that does not exist (absent from the states given) is in no state: every
function on it is FALSE, so ``NOT ALARM(missing)`` is TRUE.

State reasons (:func:`reason`) follow AWS's composite form, e.g.
``arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu transitioned to ALARM at Sunday 29
November, 2026 10:04:00 UTC`` with ``StateReasonData``
``{"triggeringAlarms":[{"arn":...,"state":{"value":"ALARM","timestamp":"2026-11-29T10:04:00.000+0000"}}]}``.

Actions suppression (:func:`suppression`, PutCompositeAlarm ``ActionsSuppressor``,
``ActionsSuppressorWaitPeriod``, ``ActionsSuppressorExtensionPeriod``; CompositeAlarm
``ActionsSuppressedBy`` = ``Alarm`` | ``WaitPeriod`` | ``ExtensionPeriod``): actions are held
while the suppressor is in ALARM, for up to WaitPeriod seconds after the composite went to
ALARM while waiting for the suppressor to follow, and for ExtensionPeriod seconds after the
suppressor left ALARM.  The reason text is AWS's ``Actions suppressed by <ActionsSuppressedBy>``.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from cfn_gateway.domain.alarms import ALARM, INSUFFICIENT_DATA, OK, AlarmState, CompositeRule
from cfn_gateway.domain.periods import iso_millis

# --- Limits --------------------------------------------------------------------------------

#: Distinct alarms one rule may reference (AWS).
MAX_CHILDREN = 100
#: Functions, TRUE/FALSE and grouping parentheses one rule may contain (AWS).
MAX_ELEMENTS = 500
#: Characters of a rule (AWS: the AlarmRule length constraint).
MAX_LENGTH = 10240
#: Nesting levels (grouping parentheses and NOTs); AWS documents none, this is ours.
MAX_DEPTH = 100
#: AWS's length limits of StateReason and StateReasonData.
MAX_REASON_LENGTH = 1023
MAX_REASON_DATA_LENGTH = 4000

#: The functions of the language: name -> the state value that makes them TRUE.
FUNCTIONS = {ALARM: ALARM, OK: OK, INSUFFICIENT_DATA: INSUFFICIENT_DATA}
KEYWORDS = ("AND", "OR", "NOT", "TRUE", "FALSE", *FUNCTIONS)

# ActionsSuppressedBy values.
SUPPRESSED_BY_ALARM = "Alarm"
SUPPRESSED_BY_WAIT_PERIOD = "WaitPeriod"
SUPPRESSED_BY_EXTENSION_PERIOD = "ExtensionPeriod"


class RuleError(ValueError):
    """An AlarmRule AWS would refuse; ``message`` is the ValidationError text the API
    returns, ``position`` the 1-based character position it points at (None: the whole
    rule)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


# --- The expression tree ---------------------------------------------------------------


@dataclass(frozen=True)
class Constant:
    """``TRUE`` or ``FALSE``."""

    value: bool


@dataclass(frozen=True)
class StateFunction:
    """``ALARM(ref)``, ``OK(ref)`` or ``INSUFFICIENT_DATA(ref)``: TRUE when alarm ``name``
    is in ``state``.  ``ref`` is the argument as written (without quotes): the name itself
    or an alarm ARN whose last part is ``name``."""

    state: str
    name: str
    ref: str
    #: 1-based position of the function name in the rule text (0: built, not parsed).
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    """Two or more operands, all TRUE."""

    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Two or more operands, at least one TRUE."""

    operands: tuple[Node, ...]


Node = Constant | StateFunction | Not | And | Or


@dataclass(frozen=True)
class ParsedRule:
    """A valid rule: its tree and the names of the alarms it references (each once, in
    the order they first appear)."""

    expression: Node
    children: tuple[str, ...]


@dataclass(frozen=True)
class ChildState:
    """A child alarm's state value and when it entered it (StateTransitionedTimestamp)."""

    value: str
    timestamp: datetime


# --- Parsing -------------------------------------------------------------------------------


class _Token(NamedTuple):
    kind: str  # "end", "(", ")", "word", "char"
    text: str
    start: int  # 0-based
    end: int


_OPERAND = "an alarm function (ALARM, OK, INSUFFICIENT_DATA), TRUE, FALSE, NOT or '('"


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _describe(token: _Token) -> str:
    return "end of rule" if token.kind == "end" else f"'{token.text}'"


def _error(position: int, detail: str) -> RuleError:
    """``position`` is 0-based; messages show it 1-based."""
    return RuleError(f"Error in AlarmRule at position {position + 1}: {detail}.", position + 1)


def _expected(token: _Token, what: str) -> RuleError:
    return _error(token.start, f"expected {what}, found {_describe(token)}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.elements = 0
        self.depth = 0
        self.children: dict[str, None] = {}

    # -- scanning

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _peek(self) -> _Token:
        self._skip_space()
        text, start = self.text, self.pos
        if start >= len(text):
            return _Token("end", "", start, start)
        ch = text[start]
        if ch in "()":
            return _Token(ch, ch, start, start + 1)
        if _is_word_char(ch):
            end = start
            while end < len(text) and _is_word_char(text[end]):
                end += 1
            word = text[start:end]
            upper = word.upper()
            if word != upper and upper in KEYWORDS:
                raise _error(start, f"keywords are upper-case: write '{upper}', not '{word}'")
            return _Token("word", word, start, end)
        return _Token("char", ch, start, start + 1)

    def _take(self, token: _Token) -> None:
        self.pos = token.end

    def _is_word(self, token: _Token, word: str) -> bool:
        return token.kind == "word" and token.text == word

    # -- accounting

    def _count_element(self, token: _Token) -> None:
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise _error(token.start, f"a rule may have at most {MAX_ELEMENTS} elements "
                                      "(alarm functions, TRUE, FALSE and parentheses); "
                                      f"element {self.elements} starts here")

    def _enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(token.start, f"a rule may nest at most {MAX_DEPTH} levels "
                                      "(parentheses and NOT)")

    # -- grammar

    def parse(self) -> Node:
        node = self._or()
        token = self._peek()
        if token.kind == ")":
            raise _error(token.start, "found ')' without a matching '('")
        if token.kind != "end":
            raise _expected(token, "AND, OR or end of rule")
        return node

    def _or(self) -> Node:
        operands = [self._and()]
        while self._is_word(token := self._peek(), "OR"):
            self._take(token)
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _and(self) -> Node:
        operands = [self._unary()]
        while self._is_word(token := self._peek(), "AND"):
            self._take(token)
            operands.append(self._unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _unary(self) -> Node:
        nots = 0
        while self._is_word(token := self._peek(), "NOT"):
            self._take(token)
            self._enter(token)
            nots += 1
        node = self._primary()
        for _ in range(nots):
            node = Not(node)
        self.depth -= nots
        return node

    def _primary(self) -> Node:
        token = self._peek()
        if token.kind == "(":
            self._count_element(token)
            self._enter(token)
            self._take(token)
            node = self._or()
            closing = self._peek()
            if closing.kind != ")":
                raise _expected(closing, f"AND, OR or ')' closing the '(' at position "
                                         f"{token.start + 1}")
            self._count_element(closing)
            self._take(closing)
            self.depth -= 1
            return node
        if token.kind == "word":
            if token.text in ("TRUE", "FALSE"):
                self._count_element(token)
                self._take(token)
                return Constant(token.text == "TRUE")
            if token.text in FUNCTIONS:
                self._count_element(token)
                self._take(token)
                return self._function(token)
            if token.text not in KEYWORDS and self.text[token.end:].lstrip()[:1] == "(":
                raise _error(token.start, f"unknown function '{token.text}'; the "
                                          "functions are ALARM, OK and INSUFFICIENT_DATA")
        raise _expected(token, _OPERAND)

    def _function(self, function: _Token) -> StateFunction:
        opening = self._peek()
        if opening.kind != "(":
            raise _expected(opening, f"'(' after {function.text}")
        self._take(opening)
        self._skip_space()
        text = self.text
        if self.pos < len(text) and text[self.pos] == '"':
            quote = self.pos
            close = text.find('"', quote + 1)
            if close < 0:
                raise _error(quote, "quoted alarm name is not closed: expected '\"', found "
                                    "end of rule")
            ref, ref_start = text[quote + 1:close], quote + 1
            if not ref.strip():
                raise _error(quote, "expected an alarm name or ARN, found an empty "
                                    "quoted name")
            self.pos = close + 1
            closing = self._peek()
            if closing.kind != ")":
                raise _expected(closing, f"')' after the quoted alarm name of {function.text}")
        else:
            close = text.find(")", self.pos)
            if close < 0:
                raise _error(len(text), f"expected ')' closing {function.text}( at position "
                                        f"{opening.start + 1}, found end of rule")
            raw = text[self.pos:close]
            for bad in '("':
                at = raw.find(bad)
                if at >= 0:
                    raise _error(self.pos + at, f"an unquoted alarm name cannot contain "
                                                f"'{bad}'; write the name in double quotes")
            ref = raw.strip()
            ref_start = self.pos + len(raw) - len(raw.lstrip())
            if not ref:
                raise _error(close, f"expected an alarm name or ARN in {function.text}(), "
                                    "found ')'")
            self.pos = close
            closing = self._peek()
        self._take(closing)
        name = _alarm_name(ref, ref_start)
        if name not in self.children:
            if len(self.children) >= MAX_CHILDREN:
                raise _error(function.start, f"a rule may reference at most {MAX_CHILDREN} "
                                             f"alarms; '{name}' would be alarm "
                                             f"{len(self.children) + 1}")
            self.children[name] = None
        return StateFunction(FUNCTIONS[function.text], name, ref, function.start + 1)


def _alarm_name(ref: str, position: int) -> str:
    """The alarm a function argument names: itself, or the name part of an alarm ARN
    (``position``: 0-based start of the argument)."""
    if not ref.startswith("arn:"):
        return ref
    parts = ref.split(":", 6)
    if (len(parts) == 7 and all(parts[1:5]) and parts[2] == "cloudwatch"
            and parts[5] == "alarm" and parts[6]):
        return parts[6]
    raise _error(position, f"'{ref}' is not a CloudWatch alarm ARN "
                           "(arn:partition:cloudwatch:region:account:alarm:name)")


def parse(text: str) -> ParsedRule:
    """Parse and validate an AlarmRule; :class:`RuleError` says where and what is wrong."""
    if len(text) > MAX_LENGTH:
        raise RuleError(f"AlarmRule may be at most {MAX_LENGTH} characters long; "
                        f"it has {len(text)}.")
    parser = _Parser(text)
    expression = parser.parse()
    return ParsedRule(expression, tuple(parser.children))


def render(node: Node | ParsedRule) -> str:
    """The rule as text that :func:`parse` reads back to an equal tree: names always in
    double quotes (unquoted only when they contain a quote), parentheses only where the
    tree's grouping needs them."""
    if isinstance(node, ParsedRule):
        node = node.expression
    match node:
        case Constant(value):
            return "TRUE" if value else "FALSE"
        case StateFunction(state=state, ref=ref):
            return f"{state}({ref})" if '"' in ref else f'{state}("{ref}")'
        case Not(operand):
            inner = render(operand)
            return f"NOT ({inner})" if isinstance(operand, And | Or) else f"NOT {inner}"
        case And(operands):
            return " AND ".join(f"({render(o)})" if isinstance(o, And | Or) else render(o)
                                for o in operands)
        case Or(operands):
            return " OR ".join(f"({render(o)})" if isinstance(o, Or) else render(o)
                               for o in operands)
    raise TypeError(f"not a rule node: {node!r}")


# --- Validation against other alarms ------------------------------------------------------


def check_references(rule: ParsedRule, own_name: str) -> None:
    """RuleError if the rule of composite alarm ``own_name`` names that alarm itself."""
    if own_name in rule.children:
        where = next(f for f in functions(rule.expression) if f.name == own_name)
        message = f"AlarmRule of alarm '{own_name}' may not reference the alarm itself"
        if where.position:
            message += f" (position {where.position})"
        raise RuleError(message + ".", where.position or None)


def functions(node: Node) -> list[StateFunction]:
    """The alarm functions of a tree, left to right."""
    found: list[StateFunction] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        match current:
            case StateFunction():
                found.append(current)
            case Not(operand):
                stack.append(operand)
            case And(operands) | Or(operands):
                stack.extend(reversed(operands))
    return found


def find_cycle(own_name: str, children: Sequence[str],
               children_of: Callable[[str], Sequence[str]]) -> list[str] | None:
    """A shortest path ``own_name -> ... -> own_name`` if alarm ``own_name``, given the
    rule children ``children``, would depend on itself; None if it would not.

    ``children_of(name)`` gives the children of any other alarm (empty for metric alarms
    and alarms that do not exist); it is never asked about ``own_name``, whose stored rule
    the new ``children`` replace.  Cycles elsewhere in the graph are walked past.
    """
    parent: dict[str, str] = {}
    queue: deque[str] = deque()
    for child in dict.fromkeys(children):
        if child == own_name:
            return [own_name, own_name]
        parent[child] = own_name
        queue.append(child)
    while queue:
        current = queue.popleft()
        for child in children_of(current):
            if child == own_name:
                path = [current]
                while path[-1] != own_name:
                    path.append(parent[path[-1]])
                return [*reversed(path), own_name]
            if child not in parent:
                parent[child] = current
                queue.append(child)
    return None


def check_cycle(own_name: str, children: Sequence[str],
                children_of: Callable[[str], Sequence[str]]) -> None:
    """RuleError naming the cycle :func:`find_cycle` finds, if any."""
    path = find_cycle(own_name, children, children_of)
    if path is not None:
        raise RuleError(f"AlarmRule of alarm '{own_name}' creates a cycle of composite "
                        f"alarms: {' -> '.join(path)}.")


# --- Evaluation ----------------------------------------------------------------------------


def _holds(node: Node, states: Mapping[str, str]) -> bool:
    match node:
        case Constant(value):
            return value
        case StateFunction(state=state, name=name):
            return states.get(name) == state
        case Not(operand):
            return not _holds(operand, states)
        case And(operands):
            return all(_holds(o, states) for o in operands)
        case Or(operands):
            return any(_holds(o, states) for o in operands)
    raise TypeError(f"not a rule node: {node!r}")


def evaluate(rule: ParsedRule, states: Mapping[str, str]) -> bool:
    """Whether the rule is TRUE (composite in ALARM) for the children's state values; a
    child missing from ``states`` is in no state."""
    return _holds(rule.expression, states)


def _deciders(node: Node, outcome: bool, states: Mapping[str, str],
              found: dict[str, None]) -> None:
    """Add to ``found`` the children whose states give ``node`` its ``outcome``: all of
    an operator's operands when each one was needed (AND true, OR false), otherwise those
    operands that have the outcome.  Missing children and constants name no one."""
    match node:
        case StateFunction(name=name):
            if name in states:
                found.setdefault(name)
        case Not(operand):
            _deciders(operand, not outcome, states, found)
        case And(operands) | Or(operands):
            for operand in operands:
                if _holds(operand, states) == outcome:
                    _deciders(operand, outcome, states, found)


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def reason_time(moment: datetime) -> str:
    """AWS's reason-text time: ``Sunday 29 November, 2026 10:04:00 UTC``."""
    t = _utc(moment)
    return (f"{_WEEKDAYS[t.weekday()]} {t.day:02d} {_MONTHS[t.month - 1]}, {t.year} "
            f"{t:%H:%M:%S} UTC")


def reason_data_time(moment: datetime) -> str:
    """AWS's reason-data time: ``2026-11-29T10:04:00.000+0000``."""
    return iso_millis(_utc(moment))


#: The reasons when no child decides the rule (only constants do, or missing children).
GENERIC_REASONS = {ALARM: "Alarm rule evaluated to TRUE", OK: "Alarm rule evaluated to FALSE"}


def reason(rule: ParsedRule, states: Mapping[str, ChildState], arn_of: Callable[[str], str],
           new_value: str) -> tuple[str, str]:
    """StateReason and StateReasonData (JSON) of a composite alarm entering ``new_value``.

    The children named are those whose states make the rule TRUE (ALARM) or FALSE (OK),
    in the order they first appear in the rule; ``arn_of`` gives their ARNs.  With none to
    name, the reason is :data:`GENERIC_REASONS` and ``triggeringAlarms`` is empty.  The text
    keeps to AWS's 1023 characters (entries that do not fit become ``and N more``), the
    JSON to 4000 (entries that do not fit are left out).

    ValueError if ``new_value`` is not ALARM or OK, or is not what the rule evaluates to.
    """
    if new_value not in GENERIC_REASONS:
        raise ValueError(f"a composite alarm's rule decides ALARM or OK, not {new_value!r}")
    values = {name: state.value for name, state in states.items()}
    outcome = new_value == ALARM
    if _holds(rule.expression, values) != outcome:
        raise ValueError(f"the rule does not put the alarm in {new_value}")
    names: dict[str, None] = {}
    _deciders(rule.expression, outcome, values, names)
    if not names:
        return GENERIC_REASONS[new_value], json.dumps({"triggeringAlarms": []},
                                                      separators=(",", ":"))
    arns = [arn_of(name) for name in names]
    children = [states[name] for name in names]
    parts = [f"{arn} transitioned to {child.value} at {reason_time(child.timestamp)}"
             for arn, child in zip(arns, children, strict=True)]
    entries = [{"arn": arn, "state": {"value": child.value,
                                      "timestamp": reason_data_time(child.timestamp)}}
               for arn, child in zip(arns, children, strict=True)]
    return _reason_text(parts), _reason_json(entries)


def _reason_text(parts: list[str]) -> str:
    text = ", ".join(parts)
    if len(text) <= MAX_REASON_LENGTH:
        return text
    for kept in range(len(parts) - 1, 0, -1):
        text = ", ".join(parts[:kept]) + f" and {len(parts) - kept} more"
        if len(text) <= MAX_REASON_LENGTH:
            return text
    return text[:MAX_REASON_LENGTH]


def _reason_json(entries: list[dict]) -> str:
    kept = len(entries)
    while True:
        data = json.dumps({"triggeringAlarms": entries[:kept]}, separators=(",", ":"),
                          ensure_ascii=False)
        if len(data) <= MAX_REASON_DATA_LENGTH or kept == 0:
            return data
        kept -= 1


# --- Actions suppressor ----------------------------------------------------------------


def suppression(now: datetime, composite_state_value: str,
                composite_transitioned_at: datetime, suppressor_value: str | None,
                suppressor_transitioned_at: datetime | None, wait_period: int | None,
                extension_period: int | None, *,
                suppressor_left_alarm: bool = True) -> tuple[str | None, str | None]:
    """(ActionsSuppressedBy, ActionsSuppressedReason) of a composite alarm at ``now``, or
    (None, None) when its actions are not held back.

    - ``Alarm``: the suppressor is in ALARM (whatever the composite's state).
    - ``ExtensionPeriod``: the suppressor left ALARM at ``suppressor_transitioned_at`` and
      fewer than ``extension_period`` seconds have passed.  ``suppressor_left_alarm`` says
      whether its last transition was out of ALARM (pass False when it went, say, from OK
      to INSUFFICIENT_DATA); it defaults to True.
    - ``WaitPeriod``: the composite is in ALARM, went there fewer than ``wait_period``
      seconds ago, and the suppressor has not been in ALARM since (a suppressor that left
      ALARM at or after that moment ended the wait).

    Periods are exclusive: at exactly ``wait_period`` / ``extension_period`` seconds the
    actions run.  None or non-positive periods hold nothing back.  A ``suppressor_value``
    of None (no suppressor, or it no longer exists) holds nothing back.  ExtensionPeriod
    is reported before WaitPeriod when both run.
    """
    if suppressor_value is None:
        return None, None
    if suppressor_value == ALARM:
        return SUPPRESSED_BY_ALARM, _suppressed_reason(SUPPRESSED_BY_ALARM)
    left_alarm_at = suppressor_transitioned_at if suppressor_left_alarm else None
    if (left_alarm_at is not None and extension_period and extension_period > 0
            and now - left_alarm_at < timedelta(seconds=extension_period)):
        return SUPPRESSED_BY_EXTENSION_PERIOD, _suppressed_reason(SUPPRESSED_BY_EXTENSION_PERIOD)
    if (composite_state_value == ALARM and wait_period and wait_period > 0
            and now - composite_transitioned_at < timedelta(seconds=wait_period)
            and (left_alarm_at is None or left_alarm_at < composite_transitioned_at)):
        return SUPPRESSED_BY_WAIT_PERIOD, _suppressed_reason(SUPPRESSED_BY_WAIT_PERIOD)
    return None, None


def suppression_by(suppressor: AlarmState, rule: CompositeRule, composite: AlarmState,
                   now: datetime) -> tuple[str | None, str | None]:
    """``suppression`` for a composite alarm (``rule``, in state ``composite``) whose
    suppressor is in state ``suppressor``."""
    return suppression(now, composite.value, composite.transitioned_at, suppressor.value,
                       suppressor.transitioned_at, rule.suppressor_wait_period,
                       rule.suppressor_extension_period,
                       suppressor_left_alarm=suppressor.previous_value == ALARM)


def _suppressed_reason(by: str) -> str:
    return f"Actions suppressed by {by}"
