"""The expression parser of ``chainrule graph``: precedence, round trips, refusals, fuzzing."""

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.errors import InputError
from chainrule.explanations import expr
from chainrule.explanations.expr import Binary, Call, Name, Negate, Number


@pytest.mark.parametrize("text, value", [
    ("-2**2", -4.0),           # ** binds tighter than unary minus
    ("(-2)**2", 4.0),
    ("2**3**2", 512.0),        # right-associative
    ("2**-1", 0.5),            # a unary minus may follow **
    ("-3*2", -6.0),
    ("8/4/2", 1.0),            # left-associative
    ("2-3-4", -5.0),
    ("2*3+4*5", 26.0),
    ("2+3*4**2", 50.0),
    ("--3", 3.0),
    ("1e-3 * 2E2", 0.2),
    (".5 + 1.", 1.5),
    ("sqrt(16) + exp(0) + log(1) + abs(-2) + relu(-3) + relu(3)", 10.0),
    ("sigmoid(0) + tanh(0) + sin(0) + cos(0)", 1.5),
])
def test_precedence_and_values_worked_by_hand(text, value):
    assert float(expr.evaluate(expr.parse(text), {})) == pytest.approx(value, rel=1e-15)


def test_names_in_order_of_appearance_and_values():
    tree = expr.parse("(a+b)*(b+1)")
    assert expr.names(tree) == ["a", "b"]
    assert float(expr.evaluate(tree, {"a": 2.0, "b": 1.0})) == 6.0
    with pytest.raises(InputError, match="no value for b"):
        expr.evaluate(tree, {"a": 2.0})


@pytest.mark.parametrize("text, message", [
    ("(a+b))", "unexpected ')' at column 6"),
    ("a + * b", "unexpected '*' at column 5"),
    ("(a+b", "unexpected end of expression at column 5 (the '(' at column 1 is not closed)"),
    ("a b", "unexpected 'b' at column 3"),
    ("2a", "unexpected 'a' at column 2"),
    ("a^2", "unexpected character '^' at column 2 (use ** for powers)"),
    ("f(x)", "unknown function 'f' at column 1"),
    ("exp", "function 'exp' at column 1 needs an argument"),
    ("max(a, b)", "unknown function 'max'"),
    ("exp(a, b)", "unexpected ',' at column 6 (functions take one argument)"),
    ("a, b", "unexpected ',' at column 2"),
    ("", "expression is empty"),
    ("   ", "expression is empty"),
    ("1e400", "number 1e400 at column 1 is too large"),
])
def test_errors_name_the_column(text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        expr.parse(text)


@pytest.mark.parametrize("text", [
    "__import__('os')",
    "__import__('os').system('true')",
    "a.__class__",
    "().__class__.__bases__[0]",
    "'abc'",
    '"abc"',
    "lambda: 0",
    "lambda x: x",
    "[a for a in b]",
    "a[0]",
    "a if b else c",
    "a; b",
    "a = 1",
    "a == b",
    "exec('1')",
    "eval('1')",
    "open('/etc/passwd')",
    "sin.__call__(1)",
    "{}",
    "a @ b",
    "x\n+1\x00",
    "٣ + 1",                  # non-ASCII digits are not numbers here
    "9" + "**9" * 400,        # huge exponent tower: nesting limit
    "(" * 10_000 + "a" + ")" * 10_000,
    "(" * 60 + "a" + ")" * 60,
    "-" * 500 + "a",
    "a + " * 400 + "a",       # 1,601 characters: length limit
    "sin(" * 60 + "a" + ")" * 60,
])
def test_hostile_expressions_are_refused(text):
    with pytest.raises(InputError):
        expr.parse(text)


def test_limits_are_generous_enough_for_real_expressions():
    expr.parse("(" * 40 + "a" + ")" * 40)
    expr.parse("sin(" * 40 + "a" + ")" * 40 + "+" + "(" * 40 + "a" + ")" * 40)  # depth resets
    expr.parse("+".join(["a*b"] * 200))      # 799 characters, flat: no depth used
    assert expr.MAX_LENGTH >= 500 and expr.MAX_DEPTH >= 30


def test_a_long_flat_sum_evaluates_without_recursion():
    tree = expr.parse("+".join(["a"] * 499))
    assert float(expr.evaluate(tree, {"a": 1.0})) == 499.0
    assert expr.to_text(tree).count("+") == 498


# -- hypothesis: random trees and random text --------------------------------------------------
_leaves = st.one_of(
    st.sampled_from(["a", "b", "c"]).map(lambda n: Name(n, 0)),
    st.floats(0, 5, allow_nan=False).map(lambda v: Number(round(v, 3), 0)),
)


def _extend(children):
    return st.one_of(
        children.map(lambda x: Negate(x, 0)),
        st.tuples(st.sampled_from(["+", "-", "*", "/", "**"]), children, children).map(
            lambda t: Binary(t[0], t[1], t[2], 0)),
        st.tuples(st.sampled_from(expr.FUNCTIONS), children).map(lambda t: Call(t[0], t[1], 0)),
    )


trees = st.recursive(_leaves, _extend, max_leaves=12)


def _same(x, y):
    return (math.isnan(x) and math.isnan(y)) or x == y


@settings(max_examples=300, deadline=None)
@given(trees, st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3))
def test_printing_then_parsing_gives_back_the_same_tree(tree, a, b, c):
    text = expr.to_text(tree)
    again = expr.parse(text)
    assert expr.to_text(again) == text
    values = {"a": a, "b": b, "c": c}
    assert _same(float(expr.evaluate(again, values)), float(expr.evaluate(tree, values)))


_alphabet = st.sampled_from(list("ab1.2e+-*/() ") + ["**", "exp", "sin(", "_", "'", "[", "."])


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_alphabet, max_size=40).map("".join)))
def test_fuzz_only_input_error_escapes(text):
    try:
        tree = expr.parse(text)
    except InputError as error:
        assert "\n" not in str(error)
        return
    # whatever parses prints back to something that parses to the same text
    assert expr.to_text(expr.parse(expr.to_text(tree))) == expr.to_text(tree)
