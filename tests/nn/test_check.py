"""check_network: the per-layer report, its verdict, and that it catches a wrong gradient."""

import json

import numpy as np
import pytest

from chainrule.errors import InputError
from chainrule.nn import Network, check_network
from chainrule.nn.check import relative_difference


def test_relative_difference():
    assert relative_difference(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_difference([1.0, 0.0], [-1.0, 0.0]) == float("inf")
    assert relative_difference([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert relative_difference([1.0], [3.0]) == pytest.approx(0.5)


def test_report_on_a_correct_network():
    net = Network([3, 5, 3], cost="cross-entropy", init="uniform", seed=0)   # float32 network
    X = np.random.default_rng(0).uniform(-1, 1, (5, 3))
    report = check_network(net, X, [0, 1, 2, 0, 1], l2=3.0)
    assert report.ok
    assert [r.param for r in report.rows] == ["W^1", "b^1", "W^2", "b^2"]
    assert [r.shape for r in report.rows] == [(5, 3), (5,), (3, 5), (3,)]
    for row in report.rows:
        assert row.reverse < 1e-12 and row.forward < 1e-12   # the engine, exactly
        assert row.numeric < 1e-7                           # central differences, eps = 1e-6
        assert row.checked == int(np.prod(row.shape))
    assert net.dtype == np.float32                          # checked on a float64 copy
    text = str(report)
    assert "W^1" in text and "reverse mode" in text and "OK" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True and len(data["rows"]) == 4 and data["l2"] == 3.0


def test_fourth_order_differences_reach_near_machine_precision():
    net = Network([3, 4, 2], activation="tanh", cost="log-likelihood", init="uniform", seed=1)
    X = np.random.default_rng(1).uniform(-1, 1, (4, 3))
    report = check_network(net, X, [0, 1, 1, 0], l2=1.0, eps=1e-3, order=4)
    assert max(r.numeric for r in report.rows) < 1e-10
    assert report.worst < 1e-10


def test_large_networks_use_random_directions_and_sampled_entries():
    net = Network([40, 60, 10], activation="relu", cost="log-likelihood", seed=0)
    X = np.random.default_rng(0).uniform(0, 1, (3, 40))
    report = check_network(net, X, [1, 2, 3], l2=0.1)
    assert "random directions" in report.forward_mode
    assert report.rows[0].checked == 500 and report.rows[1].checked == 60
    assert max(r.forward for r in report.rows) < 1e-10


def test_a_wrong_gradient_is_caught(monkeypatch):
    net = Network([3, 4, 2], seed=0)
    right = Network.gradients

    def off_by_a_bit(self, X, Y, l2=0.0, n=None):
        grads = right(self, X, Y, l2, n)
        grads[2] = grads[2] * 1.01                      # W^2 one percent off
        return grads

    monkeypatch.setattr(Network, "gradients", off_by_a_bit)
    report = check_network(net, np.ones((2, 3)), [0, 1])
    assert not report.ok
    bad = {r.param for r in report.rows if r.numeric > 1e-4}
    assert bad == {"W^2"}
    assert "FAILED" in str(report)


def test_bad_arguments():
    net = Network([3, 2], seed=0)
    with pytest.raises(InputError, match="eps"):
        check_network(net, np.ones((2, 3)), [0, 1], eps=0)
    with pytest.raises(InputError, match="order"):
        check_network(net, np.ones((2, 3)), [0, 1], order=3)
    with pytest.raises(InputError, match="expected 3 columns"):
        check_network(net, np.ones((2, 4)), [0, 1])
