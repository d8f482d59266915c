"""Explanations: every number of a pass, shown. ``cr.explain`` and ``cr.trace`` live here.

- ``ledger``  ``cr.explain(net, x, y, lr)``: one forward and backward pass, BP1-BP4 labelled,
  as text, markdown, JSON or CSV (Mazur's step-by-step example is the model)
- ``diagram`` ``cr.trace(f, *inputs)``: the computational graph of any engine computation,
  with local derivatives on the edges, in reverse or forward mode or as path sums (colah)
- ``render``  text, DOT and SVG drawings of a traced graph
- ``expr``    the safe expression reader behind ``chainrule graph "(a+b)*(b+1)"`` (no eval)
- ``plots``   learning curves, confusion matrices, hidden-unit images (matplotlib)

The package is ``explanations`` rather than ``explain`` so that ``cr.explain`` stays the
function: a subpackage of that name would replace it on ``chainrule`` once imported.
"""

from __future__ import annotations

from chainrule.explanations.diagram import Graph, trace
from chainrule.explanations.ledger import explain

__all__ = ["Graph", "explain", "trace"]
