"""Draw docs/architecture.svg: the package's rooms and who imports whom, from the real imports.

    python tools/architecture_svg.py          # needs Graphviz's ``dot`` (apt-get install graphviz)

Each box is a room (a subpackage, or a plain module at the top); an arrow A -> B means some file
of A imports some file of B. The engine's files are drawn inside it in their import order.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from imports import GRAPH

DOCS = Path(__file__).resolve().parents[1] / "docs"
ROOMS = {
    "cli": "cli\ncommand line", "playground": "playground\nthe browser page",
    "books": "books\nthe books reproduced",
    "explanations": "explanations\nledger, graphs, plots",
    "distributed": "distributed\nsweeps, shards, MPI",
    "training": "training\ntrain, optim, checkpoints", "nn": "nn\nNetwork, BP1-BP4",
    "data": "data\ndigits, MNIST, CSV", "numpy": "numpy\nNumPy, differentiable",
    "engine": "engine", "_fast": "_fast\nBLAS, C kernels",
    "errors": "errors", "fsutil": "fsutil\natomic writes",
    "reading": "reading\nbounded reads, JSON",
}
ENGINE = ["tensor", "graph", "ops_shape", "ops", "ops_math", "ops_reduce", "ops_index", "linalg",
          "custom", "methods", "api", "gradcheck"]


def room(module: str) -> str | None:
    """The room of a module; ``import chainrule as cr`` inside the package reaches the engine
    (the one room the package's __init__ loads eagerly)."""
    parts = module.split(".")
    if module == "chainrule":
        return "engine"
    return parts[1] if len(parts) > 1 and parts[1] in ROOMS else None


def dot_source() -> str:
    edges = {(room(a), room(b)) for a, targets in GRAPH.items() for b in targets}
    edges = {(a, b) for a, b in edges if a and b and a != b}
    lines = ["digraph chainrule {", '  rankdir=TB; node [shape=box, style="rounded,filled", '
             'fillcolor="#f4f1ea", fontname="Helvetica", fontsize=11];',
             '  edge [color="#555555", arrowsize=0.7];']
    for name, label in ROOMS.items():
        if name != "engine":
            lines.append(f'  "{name}" [label="{label}"];')
    lines.append('  subgraph cluster_engine { label="engine (autodiff)"; fontname="Helvetica"; '
                 'style="rounded"; color="#8a6d3b";')
    for a, b in zip(ENGINE, ENGINE[1:]):
        lines.append(f'    "engine.{a}" -> "engine.{b}" [style=dashed, dir=back];')
    lines += [f'    "engine.{n}" [label="{n}", fillcolor="#fbe9c6"];' for n in ENGINE]
    lines.append("  }")
    for a, b in sorted(edges):
        head = "engine.gradcheck" if b == "engine" else b
        tail = "engine.tensor" if a == "engine" else a
        extra = ' [lhead="cluster_engine"]' if b == "engine" else ""
        lines.append(f'  "{tail}" -> "{head}"{extra};')
    lines.append('  compound=true; label="A -> B: a file of A imports a file of B. Inside the '
                 'engine each file imports only those above it."; fontname="Helvetica"; '
                 'fontsize=10;')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    source = dot_source()
    (DOCS / "architecture.dot").write_text(source, encoding="utf-8")
    if shutil.which("dot") is None:
        print("Graphviz's dot is not installed (apt-get install graphviz): wrote only the .dot",
              file=sys.stderr)
        return 1
    svg = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True,
                         check=True).stdout
    (DOCS / "architecture.svg").write_text(svg, encoding="utf-8")
    print(DOCS / "architecture.svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
