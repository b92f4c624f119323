"""Composite alarm rules: parsing, limits, evaluation, cycles, reasons, suppression."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfn_gateway.domain.alarms import ALARM, INSUFFICIENT_DATA, OK
from cfn_gateway.domain.composite_rules import (
    MAX_CHILDREN,
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_LENGTH,
    MAX_REASON_DATA_LENGTH,
    MAX_REASON_LENGTH,
    And,
    ChildState,
    Constant,
    Not,
    Or,
    ParsedRule,
    RuleError,
    StateFunction,
    check_cycle,
    check_references,
    evaluate,
    find_cycle,
    functions,
    parse,
    reason,
    reason_data_time,
    reason_time,
    render,
    suppression,
)

T = Constant(True)
F = Constant(False)


def alarm(name: str, ref: str | None = None) -> StateFunction:
    return StateFunction(ALARM, name, ref or name)


def ok(name: str) -> StateFunction:
    return StateFunction(OK, name, name)


def insufficient(name: str) -> StateFunction:
    return StateFunction(INSUFFICIENT_DATA, name, name)


def tree(text: str):
    return parse(text).expression


def error_of(text: str) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse(text)
    return caught.value


# --- Parsing -------------------------------------------------------------------------------


def test_examples_of_the_reference():
    assert tree("ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)") == And(
        (alarm("CPUUtilizationTooHigh"), alarm("DiskReadOpsTooHigh")))
    assert tree("ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)") == And(
        (alarm("CPUUtilizationTooHigh"), Not(alarm("DeploymentInProgress"))))
    rule = parse("(ALARM(CPUUtilizationTooHigh) OR ALARM(DiskReadOpsTooHigh)) "
                 "AND OK(NetworkOutTooHigh)")
    assert rule.expression == And((Or((alarm("CPUUtilizationTooHigh"),
                                       alarm("DiskReadOpsTooHigh"))),
                                   ok("NetworkOutTooHigh")))
    assert rule.children == ("CPUUtilizationTooHigh", "DiskReadOpsTooHigh", "NetworkOutTooHigh")


def test_constants_and_functions():
    assert tree("TRUE") == T
    assert tree("FALSE") == F
    assert tree("OK(a)") == ok("a")
    assert tree("INSUFFICIENT_DATA(a)") == insufficient("a")
    assert parse("TRUE").children == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NOT TRUE AND FALSE", And((Not(T), F))),
        ("NOT TRUE OR FALSE", Or((Not(T), F))),
        ("TRUE OR FALSE AND FALSE", Or((T, And((F, F))))),
        ("TRUE AND FALSE OR FALSE", Or((And((T, F)), F))),
        ("NOT ALARM(a) AND ALARM(b) OR ALARM(c)",
         Or((And((Not(alarm("a")), alarm("b"))), alarm("c")))),
        ("ALARM(a) OR NOT ALARM(b) AND ALARM(c)",
         Or((alarm("a"), And((Not(alarm("b")), alarm("c")))))),
        ("NOT NOT TRUE", Not(Not(T))),
        ("NOT (TRUE AND FALSE)", Not(And((T, F)))),
        ("(TRUE OR FALSE) AND FALSE", And((Or((T, F)), F))),
        ("TRUE AND FALSE AND TRUE", And((T, F, T))),
        ("TRUE OR FALSE OR TRUE", Or((T, F, T))),
        ("TRUE AND (FALSE AND TRUE)", And((T, And((F, T))))),
        ("((TRUE))", T),
    ],
)
def test_precedence_not_then_and_then_or(text, expected):
    assert tree(text) == expected


def test_precedence_decides_the_value():
    # OR-before-AND would make this FALSE; AND binding tighter makes it TRUE.
    assert evaluate(parse("TRUE OR FALSE AND FALSE"), {}) is True
    # NOT binding looser than AND would make this TRUE.
    assert evaluate(parse("NOT TRUE AND FALSE"), {}) is False


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ALARM(cpu)", "cpu"),
        ('ALARM("cpu")', "cpu"),
        ("ALARM(  cpu  )", "cpu"),
        ('ALARM(  "cpu"  )', "cpu"),
        ('ALARM("cpu high (prod)")', "cpu high (prod)"),
        ('ALARM(" padded ")', " padded "),
        ("ALARM(cpu high)", "cpu high"),
        ("ALARM(my-alarm.v2/x:y)", "my-alarm.v2/x:y"),
        ("ALARM(\tcpu\n)", "cpu"),
        ("ALARM (cpu)", "cpu"),
        ('ALARM("a AND b")', "a AND b"),
        ("ALARM(NOT)", "NOT"),
        ("ALARM(Ünïcode)", "Ünïcode"),
    ],
)
def test_alarm_names(text, name):
    assert tree(text).name == name
    assert parse(text).children == (name,)


def test_whitespace_is_free_between_tokens():
    expected = Or((And((alarm("a"), alarm("b"))), Not(T)))
    assert tree("ALARM(a)AND ALARM(b)OR NOT(TRUE)") == expected
    assert tree("\n  ALARM(a)\tAND\r\nALARM(b)  OR  NOT  ( TRUE )  ") == expected


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high", "cpu-high"),
        ("arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:cpu", "cpu"),
        ("arn:aws:cloudwatch:us-east-1:123456789012:alarm:name:with:colons", "name:with:colons"),
        ("arn:aws:cloudwatch:us-east-1:123456789012:alarm:with space", "with space"),
    ],
)
def test_arns_name_their_last_part(ref, name):
    for text in (f"ALARM({ref})", f'ALARM("{ref}")'):
        function = tree(text)
        assert function == StateFunction(ALARM, name, ref)
        assert parse(text).children == (name,)


@pytest.mark.parametrize(
    "ref",
    ["arn:aws:sns:us-east-1:123456789012:topic",
     "arn:aws:cloudwatch:us-east-1:123456789012:dashboard:x",
     "arn:aws:cloudwatch:us-east-1:123456789012:alarm:",
     "arn:aws:cloudwatch::123456789012:alarm:x",
     "arn:aws:cloudwatch:us-east-1::alarm:x",
     "arn:"],
)
def test_arns_of_other_things_are_refused(ref):
    error = error_of(f"ALARM({ref})")
    assert error.message == (
        f"Error in AlarmRule at position 7: '{ref}' is not a CloudWatch alarm ARN "
        "(arn:partition:cloudwatch:region:account:alarm:name).")
    assert error.position == 7


def test_children_are_deduplicated_in_first_appearance_order():
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"
    rule = parse(f'OK(c) OR ALARM(a) AND NOT ALARM("c") OR INSUFFICIENT_DATA({arn}) OR OK(b)')
    assert rule.children == ("c", "a", "b")


def test_function_positions_are_recorded():
    rule = parse('TRUE AND  OK("x")')
    assert [f.position for f in functions(rule.expression)] == [11]


# --- Errors --------------------------------------------------------------------------------

OPERAND = "an alarm function (ALARM, OK, INSUFFICIENT_DATA), TRUE, FALSE, NOT or '('"


@pytest.mark.parametrize(
    ("text", "position", "detail"),
    [
        # unbalanced parentheses
        ("(ALARM(a)", 10, "expected AND, OR or ')' closing the '(' at position 1, "
                          "found end of rule"),
        ("((TRUE) OR FALSE", 17, "expected AND, OR or ')' closing the '(' at position 1, "
                                 "found end of rule"),
        ("(TRUE FALSE)", 7, "expected AND, OR or ')' closing the '(' at position 1, "
                            "found 'FALSE'"),
        ("ALARM(a))", 9, "found ')' without a matching '('"),
        ("TRUE) AND (FALSE", 5, "found ')' without a matching '('"),
        ("()", 2, f"expected {OPERAND}, found ')'"),
        ("ALARM(a", 8, "expected ')' closing ALARM( at position 6, found end of rule"),
        ('ALARM("a', 7, "quoted alarm name is not closed: expected '\"', found end of rule"),
        ('ALARM("a" b)', 11, "expected ')' after the quoted alarm name of ALARM, found 'b'"),
        ('ALARM("a"', 10, "expected ')' after the quoted alarm name of ALARM, "
                          "found end of rule"),
        # unknown functions and words
        ("FOO(a)", 1, "unknown function 'FOO'; the functions are ALARM, OK and "
                      "INSUFFICIENT_DATA"),
        ("TRUE AND STATE (a)", 10, "unknown function 'STATE'; the functions are ALARM, OK "
                                   "and INSUFFICIENT_DATA"),
        ("cpu", 1, f"expected {OPERAND}, found 'cpu'"),
        ("ALARM", 6, "expected '(' after ALARM, found end of rule"),
        ("ALARM a", 7, "expected '(' after ALARM, found 'a'"),
        ("TRUE()", 5, "expected AND, OR or end of rule, found '('"),
        ("ALARM(a) && ALARM(b)", 10, "expected AND, OR or end of rule, found '&'"),
        ('"a"', 1, f"expected {OPERAND}, found '\"'"),
        # lower-case keywords
        ("ALARM(a) and ALARM(b)", 10, "keywords are upper-case: write 'AND', not 'and'"),
        ("ALARM(a) Or ALARM(b)", 10, "keywords are upper-case: write 'OR', not 'Or'"),
        ("not ALARM(a)", 1, "keywords are upper-case: write 'NOT', not 'not'"),
        ("alarm(a)", 1, "keywords are upper-case: write 'ALARM', not 'alarm'"),
        ("Ok(a)", 1, "keywords are upper-case: write 'OK', not 'Ok'"),
        ("insufficient_data(a)", 1, "keywords are upper-case: write 'INSUFFICIENT_DATA', "
                                    "not 'insufficient_data'"),
        ("true", 1, "keywords are upper-case: write 'TRUE', not 'true'"),
        ("TRUE AND false", 10, "keywords are upper-case: write 'FALSE', not 'false'"),
        # empty arguments and bad unquoted names
        ("ALARM()", 7, "expected an alarm name or ARN in ALARM(), found ')'"),
        ("OK(   )", 7, "expected an alarm name or ARN in OK(), found ')'"),
        ('ALARM("")', 7, "expected an alarm name or ARN, found an empty quoted name"),
        ('ALARM("  ")', 7, "expected an alarm name or ARN, found an empty quoted name"),
        ("ALARM(a(b))", 8, "an unquoted alarm name cannot contain '('; write the name in "
                           "double quotes"),
        ('ALARM(a"b)', 8, "an unquoted alarm name cannot contain '\"'; write the name in "
                          "double quotes"),
        # missing operands and trailing tokens
        ("", 1, f"expected {OPERAND}, found end of rule"),
        ("   ", 4, f"expected {OPERAND}, found end of rule"),
        ("ALARM(a) AND", 13, f"expected {OPERAND}, found end of rule"),
        ("OR ALARM(a)", 1, f"expected {OPERAND}, found 'OR'"),
        ("ALARM(a) AND AND ALARM(b)", 14, f"expected {OPERAND}, found 'AND'"),
        ("NOT", 4, f"expected {OPERAND}, found end of rule"),
        ("ALARM(a) ALARM(b)", 10, "expected AND, OR or end of rule, found 'ALARM'"),
        ("ALARM(a) NOT ALARM(b)", 10, "expected AND, OR or end of rule, found 'NOT'"),
        ("TRUE FALSE", 6, "expected AND, OR or end of rule, found 'FALSE'"),
        ("TRUE x", 6, "expected AND, OR or end of rule, found 'x'"),
    ],
)
def test_errors_say_where_and_what(text, position, detail):
    error = error_of(text)
    assert error.message == f"Error in AlarmRule at position {position}: {detail}."
    assert str(error) == error.message
    assert error.position == position
    assert isinstance(error, ValueError)


def names(count: int) -> list[str]:
    return [f"alarm-{i}" for i in range(count)]


def test_at_most_100_children():
    rule = parse(" OR ".join(f"ALARM({n})" for n in names(MAX_CHILDREN)))
    assert len(rule.children) == MAX_CHILDREN == 100
    # The same alarms again do not count twice.
    doubled = " OR ".join(f"OK({n})" for n in names(MAX_CHILDREN) * 2)
    assert len(parse(doubled).children) == 100
    text = " OR ".join(f"ALARM({n})" for n in names(MAX_CHILDREN + 1))
    error = error_of(text)
    position = text.index("ALARM(alarm-100)") + 1
    assert error.message == (f"Error in AlarmRule at position {position}: a rule may "
                             "reference at most 100 alarms; 'alarm-100' would be alarm 101.")
    assert error.position == position


def test_at_most_500_elements():
    # 100 functions + 400 constants = 500 elements.
    functions_part = " OR ".join(f"ALARM({n})" for n in names(100))
    text = functions_part + " OR TRUE" * 400
    assert len(functions(parse(text).expression)) == 100
    error = error_of(text + " OR FALSE")
    position = len(text) + len(" OR ") + 1
    assert error.message == (
        f"Error in AlarmRule at position {position}: a rule may have at most 500 elements "
        "(alarm functions, TRUE, FALSE and parentheses); element 501 starts here.")
    assert MAX_ELEMENTS == 500


def test_grouping_parentheses_count_as_elements():
    # 166 groups "(TRUE)" are 498 elements; "TRUE OR FALSE" brings them to 500.  With
    # "(TRUE)" instead, "(" is 499, TRUE 500 and ")" 501.
    groups = " OR ".join(["(TRUE)"] * 166)
    parse(groups + " OR TRUE")
    parse(groups + " OR TRUE OR FALSE")
    error = error_of(groups + " OR (TRUE)")
    assert "element 501 starts here" in error.message
    assert error.position == len(groups) + len(" OR (TRUE)")  # the closing parenthesis
    # A function's own parentheses are part of its element.
    parse(" OR ".join(f"ALARM(a{i % 100})" for i in range(500)))


def test_nesting_depth_limit():
    deepest = "(" * MAX_DEPTH + "TRUE" + ")" * MAX_DEPTH
    assert tree(deepest) == T
    error = error_of("(" * (MAX_DEPTH + 1) + "TRUE" + ")" * (MAX_DEPTH + 1))
    assert error.message == (f"Error in AlarmRule at position {MAX_DEPTH + 1}: a rule may "
                             "nest at most 100 levels (parentheses and NOT).")
    assert MAX_DEPTH == 100


def test_nots_count_as_nesting():
    assert evaluate(parse("NOT " * MAX_DEPTH + "TRUE"), {}) is True
    error = error_of("NOT " * (MAX_DEPTH + 1) + "TRUE")
    assert error.position == 4 * MAX_DEPTH + 1
    error = error_of("NOT (" * 50 + "NOT TRUE" + ")" * 50)
    assert error.position == len("NOT (" * 50) + 1


def test_depth_is_per_branch_not_cumulative():
    nested = "(" * 60 + "TRUE" + ")" * 60
    parse(f"{nested} AND {nested}")


def test_length_limit():
    text = "TRUE" + " " * (MAX_LENGTH - 4)
    assert tree(text) == T
    with pytest.raises(RuleError) as caught:
        parse(text + " ")
    assert caught.value.message == ("AlarmRule may be at most 10240 characters long; "
                                    "it has 10241.")
    assert caught.value.position is None


def test_self_reference():
    rule = parse("ALARM(other) OR OK(me)")
    check_references(rule, "other-composite")
    with pytest.raises(RuleError) as caught:
        check_references(rule, "me")
    assert caught.value.message == ("AlarmRule of alarm 'me' may not reference the alarm "
                                    "itself (position 17).")
    assert caught.value.position == 17


def test_self_reference_by_arn():
    rule = parse("NOT ALARM(arn:aws:cloudwatch:eu-west-1:123456789012:alarm:me)")
    with pytest.raises(RuleError, match="may not reference the alarm itself"):
        check_references(rule, "me")


def test_self_reference_in_a_built_rule_has_no_position():
    rule = ParsedRule(alarm("me"), ("me",))
    with pytest.raises(RuleError) as caught:
        check_references(rule, "me")
    assert caught.value.message == "AlarmRule of alarm 'me' may not reference the alarm itself."
    assert caught.value.position is None


# --- Evaluation ----------------------------------------------------------------------------

STATES = (ALARM, OK, INSUFFICIENT_DATA, None)  # None: the child does not exist


def states_of(**values: str | None) -> dict[str, str]:
    return {name: value for name, value in values.items() if value is not None}


@pytest.mark.parametrize("state", STATES)
def test_each_function_is_true_in_its_own_state_only(state):
    states = states_of(a=state)
    assert evaluate(parse("ALARM(a)"), states) is (state == ALARM)
    assert evaluate(parse("OK(a)"), states) is (state == OK)
    assert evaluate(parse("INSUFFICIENT_DATA(a)"), states) is (state == INSUFFICIENT_DATA)
    assert evaluate(parse("NOT ALARM(a)"), states) is (state != ALARM)


def test_a_missing_child_is_in_no_state():
    rule = parse("ALARM(gone) OR OK(gone) OR INSUFFICIENT_DATA(gone)")
    assert evaluate(rule, {}) is False
    assert evaluate(parse("NOT ALARM(gone)"), {"other": ALARM}) is True


@pytest.mark.parametrize(("a", "b"), list(itertools.product(STATES, STATES)))
def test_truth_tables(a, b):
    states = states_of(a=a, b=b)
    in_alarm = {"a": a == ALARM, "b": b == ALARM}
    assert evaluate(parse("ALARM(a) AND ALARM(b)"), states) is (in_alarm["a"] and in_alarm["b"])
    assert evaluate(parse("ALARM(a) OR ALARM(b)"), states) is (in_alarm["a"] or in_alarm["b"])
    assert evaluate(parse("ALARM(a) AND NOT ALARM(b)"), states) is (
        in_alarm["a"] and not in_alarm["b"])
    assert evaluate(parse("NOT (ALARM(a) OR ALARM(b))"), states) is not (
        in_alarm["a"] or in_alarm["b"])
    assert evaluate(parse("(ALARM(a) OR INSUFFICIENT_DATA(a)) AND OK(b)"), states) is (
        a in (ALARM, INSUFFICIENT_DATA) and b == OK)


@pytest.mark.parametrize(("x", "y", "z"), list(itertools.product((True, False), repeat=3)))
def test_constants_truth_table(x, y, z):
    def lit(v: bool) -> str:
        return "TRUE" if v else "FALSE"

    assert evaluate(parse(f"{lit(x)} OR {lit(y)} AND {lit(z)}"), {}) is (x or (y and z))
    assert evaluate(parse(f"({lit(x)} OR {lit(y)}) AND {lit(z)}"), {}) is ((x or y) and z)
    assert evaluate(parse(f"NOT {lit(x)} AND {lit(y)}"), {}) is ((not x) and y)
    assert evaluate(parse(f"NOT ({lit(x)} AND {lit(y)})"), {}) is not (x and y)


def test_insufficient_data_children():
    rule = parse("ALARM(cpu) AND NOT INSUFFICIENT_DATA(disk)")
    assert evaluate(rule, {"cpu": ALARM, "disk": OK}) is True
    assert evaluate(rule, {"cpu": ALARM, "disk": INSUFFICIENT_DATA}) is False
    assert evaluate(rule, {"cpu": INSUFFICIENT_DATA, "disk": OK}) is False
    assert evaluate(rule, {"cpu": ALARM}) is True


# --- Cycles --------------------------------------------------------------------------------


def graph(edges: dict[str, list[str]]):
    asked: list[str] = []

    def children_of(name: str) -> list[str]:
        asked.append(name)
        return edges.get(name, [])

    return children_of, asked


def test_no_cycle():
    children_of, asked = graph({"b": ["c"], "c": ["metric"]})
    assert find_cycle("a", ["b", "metric"], children_of) is None
    assert "a" not in asked


def test_self_cycle():
    children_of, _ = graph({})
    assert find_cycle("a", ["x", "a"], children_of) == ["a", "a"]


def test_two_and_three_alarm_cycles():
    children_of, _ = graph({"b": ["a"]})
    assert find_cycle("a", ["b"], children_of) == ["a", "b", "a"]
    children_of, _ = graph({"b": ["c"], "c": ["d", "a"], "d": []})
    assert find_cycle("a", ["x", "b"], children_of) == ["a", "b", "c", "a"]


def test_the_shortest_cycle_is_named():
    children_of, _ = graph({"b": ["c"], "c": ["d"], "d": ["a"], "e": ["a"]})
    assert find_cycle("a", ["b", "e"], children_of) == ["a", "e", "a"]


def test_own_stored_children_are_not_consulted():
    # The stored rule of "a" pointed at "b", which points back; the new rule does not.
    children_of, asked = graph({"a": ["b"], "b": ["a"]})
    assert find_cycle("a", ["c"], children_of) is None
    assert asked == ["c"]


def test_cycles_elsewhere_are_walked_past():
    children_of, asked = graph({"b": ["c"], "c": ["b", "d"], "d": ["c"]})
    assert find_cycle("a", ["b"], children_of) is None
    assert sorted(asked) == ["b", "c", "d"]  # each visited once


def test_diamonds_are_no_cycle():
    children_of, asked = graph({"b": ["d"], "c": ["d"], "d": ["m"]})
    assert find_cycle("a", ["b", "c"], children_of) is None
    assert asked.count("d") == 1


def test_check_cycle_message():
    children_of, _ = graph({"b": ["c"], "c": ["a"]})
    with pytest.raises(RuleError) as caught:
        check_cycle("a", ["b"], children_of)
    assert caught.value.message == ("AlarmRule of alarm 'a' creates a cycle of composite "
                                    "alarms: a -> b -> c -> a.")
    check_cycle("a", ["c2"], children_of)


# --- Reasons -------------------------------------------------------------------------------

PREFIX = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
AT = datetime(2026, 11, 29, 10, 4, 0, tzinfo=UTC)


def arn_of(name: str) -> str:
    return PREFIX + name


def data_of(text: str) -> list[dict]:
    return json.loads(text)["triggeringAlarms"]


def test_time_formats():
    assert reason_time(AT) == "Sunday 29 November, 2026 10:04:00 UTC"
    assert reason_time(datetime(2023, 8, 4, 12, 54, 46, 138000, tzinfo=UTC)) == (
        "Friday 04 August, 2023 12:54:46 UTC")
    assert reason_data_time(datetime(2023, 8, 4, 12, 54, 46, 138999, tzinfo=UTC)) == (
        "2023-08-04T12:54:46.138+0000")
    plus_two = timezone(timedelta(hours=2))
    assert reason_time(datetime(2026, 11, 29, 1, 0, tzinfo=plus_two)) == (
        "Saturday 28 November, 2026 23:00:00 UTC")
    assert reason_data_time(datetime(2026, 11, 29, 1, 0)) == "2026-11-29T01:00:00.000+0000"


def test_reason_for_alarm_names_the_triggering_child():
    rule = parse("ALARM(cpu-high) OR ALARM(disk)")
    states = {"cpu-high": ChildState(ALARM, AT), "disk": ChildState(OK, AT - timedelta(hours=1))}
    text, data = reason(rule, states, arn_of, ALARM)
    assert text == (f"{PREFIX}cpu-high transitioned to ALARM at Sunday 29 November, 2026 "
                    "10:04:00 UTC")
    assert data == ('{"triggeringAlarms":[{"arn":"' + PREFIX + 'cpu-high","state":'
                    '{"value":"ALARM","timestamp":"2026-11-29T10:04:00.000+0000"}}]}')


def test_reason_joins_several_children():
    rule = parse("ALARM(b) AND ALARM(a) OR ALARM(c)")
    later = AT + timedelta(minutes=1, milliseconds=250)
    states = {"a": ChildState(ALARM, AT), "b": ChildState(ALARM, later),
              "c": ChildState(OK, AT)}
    text, data = reason(rule, states, arn_of, ALARM)
    assert text == (f"{PREFIX}b transitioned to ALARM at Sunday 29 November, 2026 10:05:00 UTC, "
                    f"{PREFIX}a transitioned to ALARM at Sunday 29 November, 2026 10:04:00 UTC")
    assert data_of(data) == [
        {"arn": PREFIX + "b", "state": {"value": "ALARM",
                                        "timestamp": "2026-11-29T10:05:00.250+0000"}},
        {"arn": PREFIX + "a", "state": {"value": "ALARM",
                                        "timestamp": "2026-11-29T10:04:00.000+0000"}},
    ]


def test_reason_names_only_the_true_branches_of_an_or():
    rule = parse("ALARM(a) OR ALARM(b) OR ALARM(c) OR ALARM(a)")
    states = {n: ChildState(v, AT) for n, v in (("a", OK), ("b", ALARM), ("c", ALARM))}
    text, data = reason(rule, states, arn_of, ALARM)
    assert [d["arn"] for d in data_of(data)] == [PREFIX + "b", PREFIX + "c"]
    assert text.count("transitioned") == 2


def test_reason_through_not():
    # NOT ALARM(deploy) is true because deploy is OK: deploy helps make the rule true.
    rule = parse("ALARM(cpu) AND NOT ALARM(deploy)")
    states = {"cpu": ChildState(ALARM, AT), "deploy": ChildState(OK, AT - timedelta(days=1))}
    text, data = reason(rule, states, arn_of, ALARM)
    assert [(d["arn"], d["state"]["value"]) for d in data_of(data)] == [
        (PREFIX + "cpu", ALARM), (PREFIX + "deploy", OK)]
    assert "deploy transitioned to OK at Saturday 28 November, 2026" in text


def test_reason_for_ok_names_the_children_that_make_it_false():
    rule = parse("ALARM(a) AND ALARM(b) AND ALARM(c)")
    states = {"a": ChildState(ALARM, AT), "b": ChildState(OK, AT),
              "c": ChildState(INSUFFICIENT_DATA, AT)}
    text, data = reason(rule, states, arn_of, OK)
    assert text == (f"{PREFIX}b transitioned to OK at Sunday 29 November, 2026 10:04:00 UTC, "
                    f"{PREFIX}c transitioned to INSUFFICIENT_DATA at Sunday 29 November, 2026 "
                    "10:04:00 UTC")
    assert [d["state"]["value"] for d in data_of(data)] == [OK, INSUFFICIENT_DATA]


def test_reason_for_ok_through_an_or_names_every_child():
    rule = parse("ALARM(a) OR NOT OK(b)")
    states = {"a": ChildState(OK, AT), "b": ChildState(OK, AT)}
    _, data = reason(rule, states, arn_of, OK)
    assert [d["arn"] for d in data_of(data)] == [PREFIX + "a", PREFIX + "b"]


@pytest.mark.parametrize(
    ("text", "states", "value", "expected"),
    [
        ("TRUE", {}, ALARM, "Alarm rule evaluated to TRUE"),
        ("FALSE", {}, OK, "Alarm rule evaluated to FALSE"),
        ("ALARM(gone)", {}, OK, "Alarm rule evaluated to FALSE"),
        ("NOT ALARM(gone) AND TRUE", {}, ALARM, "Alarm rule evaluated to TRUE"),
        ("ALARM(a) AND FALSE", {"a": ChildState(ALARM, AT)}, OK,
         "Alarm rule evaluated to FALSE"),
    ],
)
def test_generic_reasons(text, states, value, expected):
    assert reason(parse(text), states, arn_of, value) == (expected, '{"triggeringAlarms":[]}')


def test_missing_children_are_not_named():
    rule = parse("ALARM(gone) OR ALARM(a)")
    _, data = reason(rule, {"a": ChildState(OK, AT)}, arn_of, OK)
    assert [d["arn"] for d in data_of(data)] == [PREFIX + "a"]


def test_reason_refuses_a_state_the_rule_does_not_give():
    rule = parse("ALARM(a)")
    states = {"a": ChildState(OK, AT)}
    with pytest.raises(ValueError, match="does not put the alarm in ALARM"):
        reason(rule, states, arn_of, ALARM)
    with pytest.raises(ValueError, match="ALARM or OK"):
        reason(rule, states, arn_of, INSUFFICIENT_DATA)


def test_long_reasons_are_cut_to_aws_limits():
    children = names(100)
    rule = parse(" AND ".join(f"ALARM({n})" for n in children))
    states = {n: ChildState(ALARM, AT) for n in children}
    text, data = reason(rule, states, arn_of, ALARM)
    assert len(text) <= MAX_REASON_LENGTH
    kept = text.count(" transitioned to ")
    assert text.endswith(f" and {100 - kept} more")
    assert kept > 1
    assert len(data) <= MAX_REASON_DATA_LENGTH
    entries = data_of(data)
    assert 1 < len(entries) < 100
    assert [e["arn"] for e in entries] == [arn_of(n) for n in children[:len(entries)]]
    # One more entry would not have fitted.
    bigger = json.dumps({"triggeringAlarms": [*entries, entries[0]]}, separators=(",", ":"))
    assert len(bigger) > MAX_REASON_DATA_LENGTH


# --- Suppression ---------------------------------------------------------------------------

NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=1)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def suppressed(composite=ALARM, composite_at=LONG_AGO, suppressor=OK, suppressor_at=LONG_AGO,
               wait=60, extension=120, **kwargs):
    return suppression(NOW, composite, composite_at, suppressor, suppressor_at, wait,
                       extension, **kwargs)


@pytest.mark.parametrize("composite", [ALARM, OK, INSUFFICIENT_DATA])
def test_suppressor_in_alarm(composite):
    assert suppressed(composite=composite, suppressor=ALARM, suppressor_at=ago(1)) == (
        "Alarm", "Actions suppressed by Alarm")
    assert suppressed(composite=composite, suppressor=ALARM, suppressor_at=LONG_AGO,
                      composite_at=ago(1)) == ("Alarm", "Actions suppressed by Alarm")


def test_nothing_suppressed():
    assert suppressed() == (None, None)
    assert suppressed(composite=OK, composite_at=ago(1)) == (None, None)


def test_no_suppressor():
    assert suppressed(suppressor=None, suppressor_at=None, composite_at=ago(1)) == (None, None)


def test_wait_period_boundaries():
    wait = ("WaitPeriod", "Actions suppressed by WaitPeriod")
    assert suppressed(composite_at=ago(0)) == wait
    assert suppressed(composite_at=ago(59.999)) == wait
    assert suppressed(composite_at=ago(60)) == (None, None)
    assert suppressed(composite_at=ago(61)) == (None, None)


@pytest.mark.parametrize("composite", [OK, INSUFFICIENT_DATA])
def test_wait_period_only_follows_a_move_to_alarm(composite):
    assert suppressed(composite=composite, composite_at=ago(1)) == (None, None)


def test_wait_period_while_the_suppressor_has_no_data():
    assert suppressed(composite_at=ago(10), suppressor=INSUFFICIENT_DATA)[0] == "WaitPeriod"


def test_extension_period_boundaries():
    extension = ("ExtensionPeriod", "Actions suppressed by ExtensionPeriod")
    assert suppressed(suppressor_at=ago(0)) == extension
    assert suppressed(suppressor_at=ago(119.999)) == extension
    assert suppressed(suppressor_at=ago(120)) == (None, None)
    assert suppressed(suppressor=INSUFFICIENT_DATA, suppressor_at=ago(30)) == extension


@pytest.mark.parametrize("composite", [OK, INSUFFICIENT_DATA])
def test_extension_period_holds_any_action(composite):
    assert suppressed(composite=composite, suppressor_at=ago(30))[0] == "ExtensionPeriod"


def test_extension_needs_a_suppressor_that_left_alarm():
    assert suppressed(suppressor=INSUFFICIENT_DATA, suppressor_at=ago(30),
                      suppressor_left_alarm=False) == (None, None)


def test_wait_ends_once_the_suppressor_has_been_in_alarm():
    # The composite went to ALARM 100 s ago (wait 300 s); the suppressor followed and left
    # ALARM again 50 s ago (extension 20 s, over).  The wait ended when it came.
    result = suppressed(composite_at=ago(100), suppressor_at=ago(50), wait=300, extension=20)
    assert result == (None, None)
    # Leaving ALARM at the very moment the composite entered it also ends the wait.
    assert suppressed(composite_at=ago(100), suppressor_at=ago(100), wait=300,
                      extension=20) == (None, None)
    # Leaving it before the composite entered ALARM does not.
    assert suppressed(composite_at=ago(100), suppressor_at=ago(101), wait=300,
                      extension=20)[0] == "WaitPeriod"


def test_extension_is_named_before_wait():
    assert suppressed(composite_at=ago(5), suppressor_at=ago(10), wait=60,
                      extension=60)[0] == "ExtensionPeriod"
    assert suppressed(composite_at=ago(5), suppressor_at=ago(10), wait=60,
                      extension=10)[0] == "WaitPeriod"


@pytest.mark.parametrize("period", [None, 0, -5])
def test_missing_periods_hold_nothing(period):
    assert suppressed(composite_at=ago(0), suppressor_at=ago(0), wait=period,
                      extension=period) == (None, None)


# --- Properties ----------------------------------------------------------------------------

alarm_names = st.text(
    alphabet=st.sampled_from("abcXYZ019-_.:/ ()"), min_size=1, max_size=12,
).filter(lambda s: s.strip() != "")
refs = st.one_of(
    alarm_names.map(lambda n: (n, n)),
    alarm_names.map(lambda n: (n, f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{n}")),
)
leaves = st.one_of(
    st.booleans().map(Constant),
    st.builds(lambda state, ref: StateFunction(state, ref[0], ref[1]),
              st.sampled_from((ALARM, OK, INSUFFICIENT_DATA)), refs),
)
nodes = st.recursive(
    leaves,
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=4).map(lambda ops: And(tuple(ops))),
        st.lists(inner, min_size=2, max_size=4).map(lambda ops: Or(tuple(ops))),
    ),
    max_leaves=25,
)


def reference_value(node, states) -> bool:
    if isinstance(node, Constant):
        return node.value
    if isinstance(node, StateFunction):
        return states.get(node.name) == node.state
    if isinstance(node, Not):
        return not reference_value(node.operand, states)
    values = [reference_value(o, states) for o in node.operands]
    return all(values) if isinstance(node, And) else any(values)


@settings(max_examples=300)
@given(nodes, st.dictionaries(alarm_names, st.sampled_from((ALARM, OK, INSUFFICIENT_DATA))))
def test_rendered_trees_parse_back_equal(node, states):
    rule = parse(render(node))
    assert rule.expression == node
    assert render(rule) == render(node)
    expected_children = list(dict.fromkeys(f.name for f in functions(node)))
    assert list(rule.children) == expected_children
    assert evaluate(rule, states) is reference_value(node, states)


@given(nodes, st.dictionaries(alarm_names, st.sampled_from((ALARM, OK, INSUFFICIENT_DATA))))
def test_reasons_name_children_in_the_decided_state(node, states):
    rule = parse(render(node))
    value = ALARM if evaluate(rule, states) else OK
    child_states = {n: ChildState(v, AT) for n, v in states.items()}
    text, data = reason(rule, child_states, arn_of, value)
    named = [entry["arn"][len(PREFIX):] for entry in data_of(data)]
    assert len(named) == len(set(named))
    assert set(named) <= set(rule.children) & set(states)
    for name in named:
        assert child_states[name].value == data_of(data)[named.index(name)]["state"]["value"]
    if not named:
        assert text.startswith("Alarm rule evaluated to")


rule_fragments = st.sampled_from(
    ["ALARM(a)", 'OK("b c")', "INSUFFICIENT_DATA( d )", "TRUE", "FALSE", "AND", "OR", "NOT",
     "(", ")", " ", "and", '"', "ALARM", "x"])


@given(st.one_of(
    st.text(alphabet=st.sampled_from('ALRMOKNDTUEFS_ "()andx\t'), max_size=60),
    st.lists(rule_fragments, max_size=20).map(" ".join),
    st.lists(rule_fragments, max_size=20).map("".join),
))
def test_any_text_parses_or_fails_with_a_position(text):
    try:
        rule = parse(text)
    except RuleError as error:
        assert error.message.startswith(f"Error in AlarmRule at position {error.position}: ")
        assert 1 <= error.position <= len(text) + 1
    else:
        assert parse(render(rule)) == rule
