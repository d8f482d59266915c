"""A small, safe expression language for ``chainrule graph``: parse, print, evaluate.

Accepted: numbers (``2``, ``0.5``, ``1e-3``), names (``a``, ``x1``), ``+ - * / **``, unary
minus, parentheses and the functions in :data:`FUNCTIONS`, each taking one argument. Nothing
else: no attribute access, strings, indexing, keywords or calls of arbitrary names, and no
``eval`` anywhere. Precedence as in Python: ``**`` binds tightest and is right-associative,
then unary minus, then ``* /``, then ``+ -`` (so ``-a**2`` is ``-(a**2)`` and ``a**-b`` is
allowed). Input longer than :data:`MAX_LENGTH` characters or nested deeper than
:data:`MAX_DEPTH` levels is refused, so hostile input can exhaust neither memory nor the
stack. Every error is an :class:`~chainrule.errors.InputError` naming the 1-based column.

>>> tree = parse("(a+b)*(b+1)")
>>> to_text(tree)
'(a + b) * (b + 1)'
>>> float(evaluate(tree, {"a": 2.0, "b": 1.0}))
6.0
>>> parse("(a+b))")
Traceback (most recent call last):
...
chainrule.errors.InputError: unexpected ')' at column 6
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from chainrule.errors import InputError, quoted

MAX_LENGTH = 1000  # characters
MAX_DEPTH = 50  # nested parentheses, unary minus signs, function calls and powers together
FUNCTIONS = ("abs", "cos", "exp", "log", "relu", "sigmoid", "sin", "sqrt", "tanh")

# binary operator -> (binding power, right-associative)
_BINARY = {"+": (10, False), "-": (10, False), "*": (20, False), "/": (20, False), "**": (40, True)}
_UNARY_MINUS = 30  # between * / and **: -a**2 == -(a**2), -a*b == (-a)*b

_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_OPERATOR = re.compile(r"\*\*|[-+*/(),]")  # "," only to say that functions take one argument
_SPACE = re.compile(r"[ \t]+")
_HINTS = {"^": " (use ** for powers)", "_": " (names start with a letter)",
          "'": " (strings are not expressions)", '"': " (strings are not expressions)",
          ".": " (no attribute access)", "[": " (no indexing)"}


# -- the syntax tree ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Number:
    value: float
    column: int


@dataclass(frozen=True)
class Name:
    name: str
    column: int


@dataclass(frozen=True)
class Negate:
    operand: object
    column: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object
    column: int


@dataclass(frozen=True)
class Call:
    function: str
    argument: object
    column: int


# -- tokens ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "op", "end"
    text: str
    column: int  # 1-based


def tokenize(text: str) -> list:
    """Split ``text`` into number, name and operator tokens (InputError on anything else)."""
    if not isinstance(text, str):
        raise InputError(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise InputError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    tokens, i = [], 0
    while i < len(text):
        if m := _SPACE.match(text, i):
            i = m.end()
            continue
        for kind, pattern in (("number", _NUMBER), ("name", _NAME), ("op", _OPERATOR)):
            if m := pattern.match(text, i):
                tokens.append(_Token(kind, m.group(), i + 1))
                i = m.end()
                break
        else:
            char = text[i]
            raise InputError(f"unexpected character {quoted(char)} at column {i + 1}"
                             + _HINTS.get(char, ""))
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


# -- the parser (recursive descent, one function per precedence level) ----------------------------
#   expression := unary (("+" | "-" | "*" | "/") expression)*   by binding power, left-assoc
#   unary      := "-" unary | power
#   power      := atom ("**" unary)?                               right-assoc: a**b**c = a**(b**c)
#   atom       := number | name | function "(" expression ")" | "(" expression ")"
class _Parser:
    def __init__(self, tokens):
        self.tokens, self.i, self.depth = tokens, 0, 0

    @property
    def token(self):
        return self.tokens[self.i]

    def advance(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def enter(self, column):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise InputError(f"expression nested deeper than {MAX_DEPTH} levels at column {column}")

    def expression(self, min_power=0):
        left = self.unary()
        while self.token.text in _BINARY and self.token.text != "**":
            power = _BINARY[self.token.text][0]
            if power < min_power:
                break
            op = self.advance()
            left = Binary(op.text, left, self.expression(power + 1), op.column)
        return left

    def unary(self):
        if self.token.text != "-":
            return self.power()
        minus = self.advance()
        self.enter(minus.column)
        operand = self.unary()
        self.depth -= 1
        return Negate(operand, minus.column)

    def power(self):
        base = self.atom()
        if self.token.text != "**":
            return base
        op = self.advance()
        self.enter(op.column)
        exponent = self.unary()
        self.depth -= 1
        return Binary("**", base, exponent, op.column)

    def atom(self):
        token = self.advance()
        if token.kind == "number":
            value = float(token.text)
            if not np.isfinite(value):
                raise InputError(f"number {token.text} at column {token.column} is too large")
            return Number(value, token.column)
        if token.kind == "name":
            if self.token.text == "(":
                if token.text not in FUNCTIONS:
                    raise InputError(f"unknown function {quoted(token.text)} at column "
                                     f"{token.column}; functions: {', '.join(FUNCTIONS)}")
                return Call(token.text, self.parenthesised(self.advance()), token.column)
            if token.text in FUNCTIONS:
                raise InputError(f"function {quoted(token.text)} at column {token.column} needs an "
                                 f"argument in parentheses, e.g. {token.text}(x)")
            return Name(token.text, token.column)
        if token.text == "(":
            return self.parenthesised(token)
        raise InputError(self.unexpected(token))

    def parenthesised(self, opening):
        self.enter(opening.column)
        inner = self.expression()
        if self.token.text == ",":
            raise InputError(self.unexpected(self.token) + " (functions take one argument)")
        if self.token.text != ")":
            raise InputError(self.unexpected(self.token)
                             + f" (the '(' at column {opening.column} is not closed)")
        self.advance()
        self.depth -= 1
        return inner

    @staticmethod
    def unexpected(token):
        if token.kind == "end":
            return f"unexpected end of expression at column {token.column}"
        return f"unexpected {quoted(token.text)} at column {token.column}"


def parse(text: str):
    """Parse ``text`` into a tree of Number/Name/Negate/Binary/Call nodes.

    >>> tree = parse("-a**2")
    >>> type(tree).__name__, tree.operand.op
    ('Negate', '**')
    """
    tokens = tokenize(text)
    if len(tokens) == 1:
        raise InputError("expression is empty")
    parser = _Parser(tokens)
    tree = parser.expression()
    if parser.token.kind != "end":
        raise InputError(parser.unexpected(parser.token))
    return tree


# -- using the tree ------------------------------------------------------------------------------
def names(tree) -> list:
    """The variable names in ``tree``, in order of first appearance.

    >>> names(parse("(a+b)*(b+1)"))
    ['a', 'b']
    """
    found, stack = {}, [tree]
    while stack:  # depth-first, left to right
        node = stack.pop()
        if isinstance(node, Name):
            found.setdefault(node.name, None)
        stack += reversed(_children(node))
    return list(found)


def _binding(node):
    if isinstance(node, Binary):
        return _BINARY[node.op][0]
    return _UNARY_MINUS if isinstance(node, Negate) else 100


def _children(node) -> tuple:
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Negate):
        return (node.operand,)
    return (node.argument,) if isinstance(node, Call) else ()


def _postorder(tree, combine):
    """Fold ``tree`` bottom-up without recursion: ``combine(node, child_results)``."""
    results, stack = [], [(tree, False)]
    while stack:
        node, ready = stack.pop()
        children = _children(node)
        if children and not ready:
            stack.append((node, True))
            stack += [(child, False) for child in reversed(children)]
            continue
        args = results[len(results) - len(children):]
        del results[len(results) - len(children):]
        results.append(combine(node, args))
    return results[0]


def to_text(tree) -> str:
    """Print ``tree`` back with the fewest parentheses that keep its meaning.

    >>> to_text(parse("((a)) - (b - c) ** 2 + -x**-2"))
    'a - (b - c) ** 2 + -x ** -2'
    """

    def show(node, args):
        if isinstance(node, Number):
            return f"{node.value:g}" if node.value == float(f"{node.value:g}") else repr(node.value)
        if isinstance(node, Name):
            return node.name
        if isinstance(node, Call):
            return f"{node.function}({args[0]})"
        if isinstance(node, Negate):
            return f"-{args[0]}" if _binding(node.operand) >= _UNARY_MINUS else f"-({args[0]})"
        power = _BINARY[node.op][0]
        left, right = args
        if node.op == "**":  # right-associative; its right operand may be a unary minus
            if _binding(node.left) <= power:
                left = f"({left})"
            if _binding(node.right) < _UNARY_MINUS:
                right = f"({right})"
        else:
            if _binding(node.left) < power:
                left = f"({left})"
            if _binding(node.right) <= power:
                right = f"({right})"
        return f"{left} {node.op} {right}"

    return _postorder(tree, show)


def _numpy_functions():
    return {"abs": np.abs, "cos": np.cos, "exp": np.exp, "log": np.log,
            "relu": lambda x: np.maximum(x, 0.0), "sigmoid": lambda x: 0.5 * (1 + np.tanh(x / 2)),
            "sin": np.sin, "sqrt": np.sqrt, "tanh": np.tanh}


def evaluate(tree, values: dict, functions: dict | None = None):
    """The value of ``tree`` with ``values`` for its names.

    ``functions`` maps each name in :data:`FUNCTIONS` to a callable (default: NumPy's);
    passing chainrule's ops evaluates on tensors and so records a computational graph.
    Numbers (and plain Python numbers in ``values``) become ``np.float64`` so that overflow,
    division by zero and negative bases give inf or nan (checked by the caller), not an
    exception or a complex number. Iterative, so deep trees cannot overflow the stack.

    >>> float(evaluate(parse("sqrt(x) * 2"), {"x": 9.0}))
    6.0
    """
    functions = _numpy_functions() if functions is None else functions
    missing = [n for n in names(tree) if n not in values]
    if missing:
        given = ", ".join(values) or "none"
        raise InputError(f"no value for {', '.join(missing)}; values given for: {given}")

    def compute(node, args):
        if isinstance(node, Number):
            return np.float64(node.value)
        if isinstance(node, Name):
            value = values[node.name]
            return np.float64(value) if isinstance(value, int | float) else value
        if isinstance(node, Negate):
            return -args[0]
        if isinstance(node, Call):
            return functions[node.function](args[0])
        return _apply(node.op, *args)

    with np.errstate(all="ignore"):
        return _postorder(tree, compute)


def _apply(op, left, right):
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return left / right
    return left ** right
