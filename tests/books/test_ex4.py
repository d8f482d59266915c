"""ex4's checks (sigmoid gradient, checkNNGradients, the costs of ex4weights.mat) and its CG run.

ex4data1.mat is not at hand: the run is tested on a file written in its layout; the handout's
figures for the real file are checked where it is (``../shared/data/ex4/ex4data1.mat``)."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import scipy.io

import chainrule as cr
from chainrule.books import ex4
from chainrule.errors import InputError
from tests.conftest import SHARED
from tests.nn.test_ex4_weights import ex4_cost


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_sigmoid_gradient_prints_what_ex4_prints():
    z = np.array(ex4.Z)
    expected = sigmoid(z) * (1 - sigmoid(z))
    np.testing.assert_allclose(ex4.sigmoid_gradient(z), expected, rtol=1e-15)
    assert [f"{v:.6f}" for v in ex4.sigmoid_gradient(z)] == [
        "0.196612", "0.235004", "0.250000", "0.235004", "0.196612"]
    assert ex4.sigmoid_gradient([0.0])[0] == 0.25                    # exactly
    assert ex4.sigmoid_gradient([-40.0, 40.0]).max() < 1e-16        # close to 0 far out


def test_debug_weights_fill_sin_values_by_columns_as_matlab_does():
    W = ex4.debug_weights(3, 2)                  # reshape(sin(1:9), 3, 3) / 10
    assert W.shape == (3, 3)
    assert W[0, 1] == pytest.approx(np.sin(4) / 10) and W[2, 0] == pytest.approx(np.sin(3) / 10)


@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_the_gradient_check_passes_below_ex4s_threshold(lam):
    assert ex4.gradient_check(lam) < 1e-9


def test_the_gradient_check_catches_a_wrong_gradient(monkeypatch):
    right = cr.nn.Network.backprop

    def off_by_a_bit(self, X, y, l2=0.0, n=None):
        grad_w, grad_b = right(self, X, y, l2, n)
        return [g * 1.01 for g in grad_w], grad_b

    monkeypatch.setattr(cr.nn.Network, "backprop", off_by_a_bit)
    assert ex4.gradient_check(0.0) > 1e-3


def fake_ex4_dir(folder, m=200, seed=0):
    """ex4data1.mat and ex4weights.mat in ex4's layout: random pixels, a random 400-25-10 net,
    labels from a slightly different net (so the costs are neither 0 nor huge)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-0.13, 1.1, (m, 400))
    Theta1, Theta2 = rng.normal(0, 0.1, (25, 401)), rng.normal(0, 1, (10, 26))
    h = sigmoid(np.hstack([np.ones((m, 1)), sigmoid(np.hstack([np.ones((m, 1)), X])
                                                    @ Theta1.T)]) @ Theta2.T)
    y_matlab = (h + rng.normal(0, 0.05, h.shape)).argmax(axis=1) + 1
    scipy.io.savemat(folder / "ex4data1.mat", {"X": X, "y": y_matlab.reshape(-1, 1)})
    scipy.io.savemat(folder / "ex4weights.mat", {"Theta1": Theta1, "Theta2": Theta2})
    return X, y_matlab, Theta1, Theta2


def test_the_checks_compute_ex4s_costs(tmp_path):
    X, y_matlab, Theta1, Theta2 = fake_ex4_dir(tmp_path)
    Xl, y = cr.data.load_mat(tmp_path / "ex4data1.mat")
    checks, _ = ex4.run_checks(Xl, y, cr.nn.load(tmp_path / "ex4weights.mat"))
    by_name = {c.name: c for c in checks}
    for lam in (0, 1, 3):
        assert by_name[f"cost at λ = {lam}"].measured == pytest.approx(
            ex4_cost(Theta1, Theta2, X, y_matlab, lam), rel=1e-12)
        assert not by_name[f"cost at λ = {lam}"].passes     # not ex4's data: not ex4's value
    assert by_name["gradient check, λ = 0"].passes and by_name["gradient check, λ = 3"].passes
    assert by_name["sigmoid gradient at 0"].passes


def test_reproduce_ex4_runs_ex4m_in_order(tmp_path):
    fake_ex4_dir(tmp_path)
    stream = io.StringIO()
    result = ex4.reproduce_ex4(tmp_path, seed=0, iterations=6, stream=stream)
    text = stream.getvalue()
    order = ["Sigmoid gradient evaluated at [-1 -0.5 0 0.5 1]: 0.196612 0.235004 0.250000",
             "cost at λ = 0:", "cost at λ = 1:", "gradient check, λ = 0:", "cost at λ = 3:",
             "Training Neural Network...", "Iteration     1 | Cost: ",
             "Training Set Accuracy: ", "the book:  training accuracy of about 95.3 %"]
    positions = [text.index(piece) for piece in order]
    assert positions == sorted(positions)
    costs = [float(c) for c in re.findall(r"Iteration +\d+ \| Cost: (\S+)", text)]
    assert len(costs) == 6 and all(b <= a for a, b in zip(costs, costs[1:]))   # CG descends
    final = float(re.search(r"Training Set Accuracy: (\S+)", text).group(1))
    assert final == pytest.approx(result.scores.last.percent, abs=0.01)
    doc = result.to_dict()
    assert set(doc) == {"name", "book", "measured", "settings", "seconds"}
    assert doc["book"]["figure"] == 95.3 and "about 95.3%" in doc["book"]["quote"]
    assert [s["epoch"] for s in doc["measured"]["scores"]] == [1, 2, 3, 4, 5, 6]
    assert all(s["total"] == 200 for s in doc["measured"]["scores"])
    assert {c["name"] for c in doc["measured"]["checks"]} >= {"cost at λ = 0", "cost at λ = 1"}
    assert doc["settings"]["iterations"] == 6 and doc["book"]["settings"]["iterations"] == 50


def test_the_same_seed_repeats_the_cg_run_exactly(tmp_path):
    fake_ex4_dir(tmp_path)
    first = ex4.reproduce_ex4(tmp_path, seed=4, iterations=3, stream=None)
    again = ex4.reproduce_ex4(tmp_path, seed=4, iterations=3, stream=None)
    assert first.scores.epochs == again.scores.epochs


def test_missing_files_are_named_with_where_they_come_from(tmp_path):
    scipy.io.savemat(tmp_path / "ex4weights.mat", {"Theta1": np.zeros((2, 3))})
    with pytest.raises(InputError) as caught:
        ex4.reproduce_ex4(tmp_path, stream=None)
    message = str(caught.value)
    assert "missing: ex4data1.mat (" in message and "ex4weights.mat," not in message
    assert "Coursera" in message and "programming exercise 4" in message


def real_ex4_data():
    path = SHARED / "ex4" / "ex4data1.mat"
    if not path.is_file():
        pytest.skip("Coursera ex4's ex4data1.mat is not here (../shared/data/ex4 holds only "
                    "ex4weights.mat); it comes with the course's programming exercise 4")
    return path


def test_the_handouts_figures_on_the_real_files(ex4_weights):
    X, y = cr.data.load_mat(real_ex4_data())
    checks, _ = ex4.run_checks(X, y, cr.nn.load(ex4_weights))
    assert all(c.passes for c in checks), [c.line() for c in checks]
