"""Write the coverage tables of docs/numpy.md from chainrule.numpy itself.

    python tools/numpy_docs.py

Every function of ``chainrule.numpy`` registers how it is differentiated (the row of the
primitive table it is, or the rows it is composed from); the tables between the markers
``<!-- coverage -->`` and ``<!-- /coverage -->`` are rewritten from that, and
tests/numpy/test_dispatch.py fails when they drift apart.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from chainrule.numpy import _arrays, _create, _elementwise, _products, _reductions, linalg
from chainrule.numpy._wrap import COVERAGE, NOT_DIFFERENTIABLE

DOCS = Path(__file__).resolve().parents[1] / "docs" / "numpy.md"
GROUPS = [("Elementwise", _elementwise), ("Reductions and scans", _reductions),
          ("Shape, joining, splitting, sorting, picking", _arrays),
          ("Products and diagonals", _products), ("Making arrays", _create),
          ("`chainrule.numpy.linalg`", linalg)]


def tables() -> str:
    out = []
    for title, module in GROUPS:
        names = [n for n, f in vars(module).items() if hasattr(f, "numpy_function")
                 and not n.startswith("_") and getattr(f, "__module__", "") == module.__name__]
        rows = [(("linalg." if module is linalg else "") + n) for n in names]
        differentiable = sorted(r for r in rows if r in COVERAGE)
        if differentiable:
            out += [f"### {title}", "", "| function | how it is differentiated |", "|---|---|"]
            out += [f"| `{r}` | {COVERAGE[r]} |" for r in differentiable]
            out.append("")
    out += ["### Not differentiable (NumPy's result on the values)", "",
            "| function | what it returns |", "|---|---|"]
    out += [f"| `{n}` | {what} |" for n, what in sorted(NOT_DIFFERENTIABLE.items())]
    return "\n".join(out) + "\n"


def main() -> int:
    text = DOCS.read_text(encoding="utf-8")
    new = re.sub(r"(<!-- coverage -->\n).*?(<!-- /coverage -->)",
                 lambda m: m.group(1) + tables() + m.group(2), text, flags=re.S)
    DOCS.write_text(new, encoding="utf-8")
    print(DOCS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
