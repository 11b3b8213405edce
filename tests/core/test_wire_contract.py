"""The wire contract lives once per side: replay/core/wire.py and js-snippet/src/wire.js must say the same."""
from __future__ import annotations

import ast
import operator
import re
from pathlib import Path

from replay.core import wire

WIRE_JS = Path(__file__).resolve().parents[2] / "js-snippet" / "src" / "wire.js"
EXPORT = re.compile(r"^export const ([A-Z][A-Z0-9_]*) = (.+?);\s*(?://.*)?$", re.M)
_OPS = {ast.Mult: operator.mul, ast.Add: operator.add, ast.Sub: operator.sub}


def _literal(node):
    """A JS literal as Python reads it: numbers (with * + -), strings, arrays of those."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_literal(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_literal(node.left), _literal(node.right))
    if isinstance(node, ast.List):
        return [_literal(item) for item in node.elts]
    raise ValueError(f"not a plain literal: {ast.dump(node)}")


def js_contract() -> dict:
    return {name: _literal(ast.parse(value, mode="eval").body) for name, value in EXPORT.findall(WIRE_JS.read_text())}


def python_contract() -> dict:
    return {name: value for name, value in vars(wire).items() if name.isupper()}


def test_both_sides_name_the_same_constants():
    assert sorted(js_contract()) == sorted(python_contract())


def test_both_sides_give_them_the_same_values():
    js, py = js_contract(), python_contract()
    assert {n: js[n] for n in js if n in py and js[n] != py[n]} == {}


def test_the_reader_sees_every_export_of_wire_js():
    # An export the regex cannot read (a computed value, two on one line) would escape the check above.
    exports = re.findall(r"^export\b", WIRE_JS.read_text(), re.M)
    assert len(exports) == len(js_contract()) > 10
