"""Import-time budget, checked without timing: the heavy libraries stay out of the fast paths.

``import chainrule`` (≤ 150 ms) and ``chainrule --help`` (≤ 300 ms) may load NumPy and nothing
heavier; SciPy, scikit-learn, matplotlib, tqdm, PyTorch and urllib load only when used. Each
check runs in a fresh interpreter so earlier imports in the test session cannot hide one.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = str(Path(__file__).resolve().parents[2] / "benchmarks")

HEAVY = ("scipy", "sklearn", "matplotlib", "tqdm", "torch", "jax", "urllib.request",
         "threadpoolctl")

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _heavy_modules_after(code):
    out = subprocess.run([sys.executable, "-c", PROBE.format(code=code, heavy=HEAVY)],
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code", [
    "import chainrule",
    "import chainrule as cr; cr.grad(lambda x: (x * x).sum())([1.0, 2.0])",
    f"import sys; sys.path.insert(0, {BENCHMARKS!r}); import harness, peers",
    "from chainrule.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
])
def test_fast_paths_load_no_heavy_library(code):
    assert _heavy_modules_after(code) == []


def test_the_probe_sees_a_heavy_import():
    """The check above can fail: importing one of them is reported."""
    assert _heavy_modules_after("import threadpoolctl") == ["threadpoolctl"]
