"""examples/tutorial.ipynb runs top to bottom in a real Jupyter kernel, with its rich outputs."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="pip install 'chainrule[test]' (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="pip install 'chainrule[test]' (nbclient)")
pytest.importorskip("ipykernel", reason="pip install 'chainrule[test]' (ipykernel)")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook after a run in a fresh python3 kernel that imports this checkout's code."""
    notebook = nbformat.read(EXAMPLES / "tutorial.ipynb", as_version=4)
    saved = dict(os.environ)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"),
                                                *filter(None, [saved.get("PYTHONPATH")])])
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"  # small problems
    try:
        nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {cell.id: cell for cell in notebook.cells if cell.cell_type == "code"}


def data(cell, mime):
    """Every output of ``cell`` carrying ``mime``."""
    return [o["data"][mime] for o in cell.outputs if mime in o.get("data", {})]


def text(cell, stream="stdout"):
    return "".join(o["text"] for o in cell.outputs
                   if o.output_type == "stream" and o["name"] == stream)


def test_every_cell_ran_without_an_error(executed):
    assert executed, "no code cells"
    for cell_id, cell in executed.items():
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"cell {cell_id}: {errors[0]['ename']}: {errors[0]['evalue']}"
        assert cell.execution_count is not None, f"cell {cell_id} did not run"


def test_the_graph_is_drawn_in_each_mode(executed):
    reverse = data(executed["graph-reverse"], "image/svg+xml")[0]
    assert "∂e/∂c = 2" in reverse and "de/db = 5" in reverse          # colah's numbers
    assert "de/da = 2" in data(executed["graph-reverse"], "text/html")[0]
    assert "de/db = 5" in data(executed["graph-forward"], "image/svg+xml")[0]
    assert "de/db = 2 + 3 = 5" in data(executed["graph-paths"], "image/svg+xml")[0]
    assert "b → c → e" in text(executed["graph-paths"])
    assert data(executed["graph-gradcheck"], "text/markdown")[0].startswith("**gradcheck ok")


def test_mazur_ledger_is_shown_as_the_worked_example(executed):
    markdown = data(executed["mazur-ledger"], "text/markdown")[0]
    assert "0.298371109" in markdown and "0.35891648" in markdown and "$$" in markdown
    assert "E_total = 0.298371109, w5+ = 0.35891648" in text(executed["mazur-check"])


def test_bp1_to_bp4_checks_are_shown(executed):
    assert "BackpropTrace" in data(executed["bp-numpy"], "text/html")[0]
    check = data(executed["bp-check"], "text/html")[0]
    assert "backprop check" in check and ">ok<" in check
    largest = float(text(executed["bp-check"]).split(":")[1])
    assert largest < 1e-7


def test_training_shows_history_network_curves_and_confusion(executed):
    train = executed["digits-train"]
    assert "History: 12 epochs" in data(train, "text/html")[0]
    assert "epoch 12/12" in text(train, "stderr")                 # the per-epoch lines
    assert data(train, "application/vnd.jupyter.widget-view+json") or "batch" in \
        text(train, "stderr")                                     # a bar, widget or text
    assert "Network 64-30-10" in data(executed["digits-network"], "text/html")[0]
    assert data(executed["digits-curves"], "image/png")           # the returned Figures
    assert data(executed["digits-confusion"], "image/png")
    accuracy = float(text(executed["digits-confusion"]).split()[-1].rstrip("%"))
    assert accuracy > 90


def test_the_estimator_in_a_pipeline(executed):
    cell = executed["sklearn-pipeline"]
    assert "'chainrule': 0.9" in text(cell)
    assert "Network 64-100-10" in data(cell, "text/html")[0]
