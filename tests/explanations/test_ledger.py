"""The backprop ledger against Matt Mazur's published worked example, in all four formats.

Mazur, "A Step by Step Backpropagation Example" (2015): inputs 0.05, 0.10; targets 0.01, 0.99;
w1..w8 = .15 .20 .25 .30 .40 .45 .50 .55; b1 = .35, b2 = .60; sigmoid units; E = Σ ½(t − o)²;
one step with η = 0.5. The numbers below are the ones printed in the post, to its digits.
"""

import csv
import io
import json
import math
import re

import numpy as np
import pytest

from chainrule.errors import InputError
from chainrule.explanations.ledger import MAZUR_EXAMPLE, explain, load_net_json, random_net, render

# printed value, as text (its digits count), and where it lives in the JSON ledger
PRINTED = {
    "net_h1": ("0.3775", lambda r: r["layers"][0]["z"][0]),
    "out_h1": ("0.593269992", lambda r: r["layers"][0]["a"][0]),
    "out_h2": ("0.596884378", lambda r: r["layers"][0]["a"][1]),
    "out_o1": ("0.75136507", lambda r: r["layers"][1]["a"][0]),
    "out_o2": ("0.772928465", lambda r: r["layers"][1]["a"][1]),
    "E_total": ("0.298371109", lambda r: r["cost"]),
    "dE/dw5": ("0.082167041", lambda r: r["layers"][1]["grad_weights"][0][0]),
    "w5+": ("0.35891648", lambda r: r["layers"][1]["new_weights"][0][0]),
    "w6+": ("0.408666186", lambda r: r["layers"][1]["new_weights"][0][1]),
    "w7+": ("0.511301270", lambda r: r["layers"][1]["new_weights"][1][0]),
    "w8+": ("0.561370121", lambda r: r["layers"][1]["new_weights"][1][1]),
    "w1+": ("0.149780716", lambda r: r["layers"][0]["new_weights"][0][0]),
    "w2+": ("0.19956143", lambda r: r["layers"][0]["new_weights"][0][1]),
    "w3+": ("0.24975114", lambda r: r["layers"][0]["new_weights"][1][0]),
    "w4+": ("0.29950229", lambda r: r["layers"][0]["new_weights"][1][1]),
}
LAYER_KEYS = {"weights", "biases", "z", "a", "delta", "delta_rule", "grad_weights", "grad_biases"}


def _agrees(value, printed: str) -> bool:
    """``value`` rounded to as many decimals as ``printed`` shows equals ``printed``."""
    decimals = len(printed.split(".")[1])
    return abs(round(value, decimals) - float(printed)) < 0.5 * 10.0 ** -(decimals + 3)


@pytest.fixture(scope="module")
def mazur():
    return explain(load_net_json(MAZUR_EXAMPLE), [0.05, 0.10], [0.01, 0.99], lr=0.5)


@pytest.mark.parametrize("name", list(PRINTED))
def test_json_ledger_matches_mazur_to_the_printed_digits(mazur, name):
    printed, where = PRINTED[name]
    assert _agrees(where(mazur), printed), (name, where(mazur), printed)


@pytest.mark.parametrize("fmt", ["text", "markdown", "csv", "json"])
def test_every_format_shows_every_printed_number(mazur, fmt):
    shown = [float(t) for t in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", render(mazur, fmt))]
    missing = [name for name, (printed, _) in PRINTED.items()
               if not any(_agrees(v, printed) for v in shown)]
    assert missing == []


def test_json_schema_keys_are_exact(mazur):
    data = json.loads(render(mazur, "json"))
    assert set(data) == {"input", "target", "cost", "network", "layers"}
    assert set(data["network"]) == {"sizes", "activation", "output", "cost", "lr", "bp1"}
    assert [set(layer) for layer in data["layers"]] == [LAYER_KEYS | {"new_weights",
                                                                      "new_biases"}] * 2
    without_lr = explain(load_net_json(MAZUR_EXAMPLE), [0.05, 0.10], [0.01, 0.99])
    assert [set(layer) for layer in without_lr["layers"]] == [LAYER_KEYS] * 2
    assert [layer["delta_rule"] for layer in data["layers"]] == ["BP2", "BP1"]
    assert data["input"] == [0.05, 0.10] and data["target"] == [0.01, 0.99]


def test_mazur_hidden_gradient_by_hand(mazur):
    # Mazur: ∂E_total/∂w1 = (Σ_o δ_o w_ho) · out_h1(1 − out_h1) · i1 = 0.000438568
    assert _agrees(mazur["layers"][0]["grad_weights"][0][0], "0.000438568")
    # BP3: ∂C/∂b = δ; BP1 for the output: δ_o1 = (out − target) out (1 − out)
    out, delta = mazur["layers"][1]["a"][0], mazur["layers"][1]["delta"][0]
    assert delta == pytest.approx((out - 0.01) * out * (1 - out), rel=1e-12)
    assert mazur["layers"][1]["grad_biases"] == mazur["layers"][1]["delta"]


def test_text_names_the_equations_and_markdown_substitutes_numbers(mazur):
    text = render(mazur, "text")
    assert "layer 2: BP1" in text and "layer 1: BP2" in text
    assert "BP3" in text and "BP4" in text
    md = render(mazur, "markdown")
    # z = w·a + b with the numbers in: 0.15·0.05 + 0.20·0.10 + 0.35 = 0.3775
    assert r"= 0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.35 = 0.3775$$" in md
    assert r"0.4 - 0.5 \cdot 0.0821670406 = 0.35891648$$" in md


def test_csv_has_one_row_per_number_matching_the_json(mazur):
    rows = list(csv.DictReader(io.StringIO(render(mazur, "csv"))))
    assert list(rows[0]) == ["layer", "quantity", "index", "value"]
    numbers = 2 + 2 + 1 + 2 * (4 + 2 + 2 + 2 + 2 + 4 + 2 + 4 + 2)  # input, target, cost, layers
    assert len([r for r in rows if r["quantity"] != "delta_rule"]) == numbers
    w7 = next(r for r in rows if (r["layer"], r["quantity"], r["index"])
              == ("2", "new_weights", "2,1"))
    assert float(w7["value"]) == mazur["layers"][1]["new_weights"][1][0]


@pytest.mark.parametrize("cost, activation", [("quadratic", "tanh"),
                                              ("cross-entropy", "sigmoid"),
                                              ("log-likelihood", "relu")])
def test_gradients_agree_with_central_differences(cost, activation):
    net = random_net([3, 4, 3], seed=7, activation=activation, cost=cost)
    x, y = np.array([0.3, -0.8, 0.5]), np.array([0.0, 1.0, 0.0])
    ledger = explain(net, x, y, lr=0.1)
    for l, layer in enumerate(ledger["layers"]):
        for array, key in ((net.weights[l], "grad_weights"), (net.biases[l], "grad_biases")):
            numeric = np.zeros(array.shape)
            for index in np.ndindex(array.shape):
                saved = array[index]
                array[index] = saved + 1e-6
                up = net.cost(x[None], y[None])
                array[index] = saved - 1e-6
                down = net.cost(x[None], y[None])
                array[index] = saved
                numeric[index] = (up - down) / 2e-6
            np.testing.assert_allclose(layer[key], numeric, rtol=1e-5, atol=1e-8)
    # the step goes downhill: the cost after it is lower
    stepped = load_net_json({"layers": [3, 4, 3], "activation": activation, "cost": cost,
                             "weights": [layer["new_weights"] for layer in ledger["layers"]],
                             "biases": [layer["new_biases"] for layer in ledger["layers"]]})
    assert stepped.cost(x[None], y[None]) < ledger["cost"]


def test_random_net_is_seeded():
    a, b = random_net([2, 3, 2], seed=3), random_net([2, 3, 2], seed=3)
    assert all(np.array_equal(u, v) for u, v in zip(a.params, b.params))
    assert not np.array_equal(random_net([2, 3, 2], seed=4).weights[0], a.weights[0])


def test_net_json_round_trip_from_a_file(tmp_path, mazur):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(MAZUR_EXAMPLE))
    again = explain(load_net_json(path), [0.05, 0.10], [0.01, 0.99], lr=0.5)
    assert again == mazur


@pytest.mark.parametrize("content, message", [
    ('{"layers": [2, 2, 2],', "invalid JSON at line 1, column 22"),
    ("[1, 2]", "expected a JSON object"),
    ('{"layers": [2, 1], "weights": [[[1, 2]]], "biases": [[0]], "x": 1}', "unknown key 'x'"),
    ('{"layers": [2, 1], "weights": [[[1, 2]]]}', "missing key 'biases'"),
    ('{"layers": [2, 0], "weights": [[]], "biases": [[]]}', "'layers' must be a list"),
    ('{"layers": [2, true], "weights": [[[1, 2]]], "biases": [[0]]}', "'layers' must be"),
    ('{"layers": [2, 1], "weights": [[[1, 2, 3]]], "biases": [[0]]}',
     "weights[0][0]: expected a list of 2 entries, got 3"),
    ('{"layers": [2, 1], "weights": [[[1, "2"]]], "biases": [[0]]}',
     'weights[0][0][1]: expected a number, got "2"'),
    ('{"layers": [2, 1], "weights": [[[1, NaN]]], "biases": [[0]]}', "expected a finite number"),
    ('{"layers": [2, 1], "weights": [[[1, true]]], "biases": [[0]]}', "expected a number"),
    ('{"layers": [2, 1], "weights": [[[1, 2]]], "biases": [[0, 1]]}',
     "biases[0]: expected a list of 1 entries, got 2"),
    ('{"layers": [2, 1], "weights": [], "biases": []}', "one entry per weight layer"),
    ('{"layers": [2, 1], "activation": "swish", "weights": [[[1, 2]]], "biases": [[0]]}',
     "unknown activation 'swish'; choose one of"),
    ('{"layers": [2, 1], "cost": "hinge", "weights": [[[1, 2]]], "biases": [[0]]}',
     "unknown cost 'hinge'"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_bad_net_files_are_named_precisely(tmp_path, content, message):
    path = tmp_path / "net.json"
    path.write_text(content)
    with pytest.raises(InputError, match=re.escape(message)):
        load_net_json(path)


def test_unreadable_net_file(tmp_path):
    with pytest.raises(InputError, match="absent.json: no such file"):
        load_net_json(tmp_path / "absent.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not a UTF-8"):
        load_net_json(tmp_path / "bin.json")


@pytest.mark.parametrize("x, y, lr, message", [
    ([0.05], [0.01, 0.99], None, "input has 1 value(s) but the network's input layer has 2"),
    ([0.05, 0.1], [0.01, 0.99, 0.5], None, "target has 3 value(s)"),
    ([0.05, math.nan], [0.01, 0.99], None, "input: value 2 is nan"),
    ([0.05, "a"], [0.01, 0.99], None, "input must be numbers"),
    ([0.05, 0.1], [0.01, 0.99], -1.0, "lr must be a finite number > 0"),
    ([0.05, 0.1], [0.01, 0.99], math.inf, "lr must be"),
])
def test_bad_explain_arguments(x, y, lr, message):
    with pytest.raises(InputError, match=re.escape(message)):
        explain(load_net_json(MAZUR_EXAMPLE), x, y, lr=lr)


def test_unknown_format_is_refused(mazur):
    with pytest.raises(InputError, match="unknown format 'html'"):
        render(mazur, "html")


@pytest.mark.parametrize("activation, output, cost", [
    ("sigmoid", "softmax", "log-likelihood"),   # BP1 in its fused form δ = a − y
    ("relu", "softmax", "quadratic"),           # softmax is not elementwise: δ as numbers
    ("tanh", "identity", "quadratic"),
    ("leaky-relu", "sigmoid", "cross-entropy"),
])
def test_every_pairing_renders_in_every_format(activation, output, cost):
    from chainrule.nn import Network

    net = Network([3, 4, 2], activation=activation, output=output, cost=cost, seed=1,
                  dtype="float64")
    ledger = explain(net, [0.5, -1.0, 2.0], [0.0, 1.0], lr=0.1)
    for fmt in ("text", "markdown"):
        assert f"{ledger['cost']:.9g}" in render(ledger, fmt)
    assert json.loads(render(ledger, "json")) == ledger
    rows = list(csv.DictReader(io.StringIO(render(ledger, "csv"))))
    assert float(next(r for r in rows if r["quantity"] == "cost")["value"]) == ledger["cost"]
    md = render(ledger, "markdown")
    if cost == "log-likelihood":
        assert r"\delta^2_1 = a^2_1 - y_1" in md
    assert md.count(r"\delta^1_") >= 4  # every hidden unit's δ by BP2


def test_the_package_exposes_explain_and_trace():
    import chainrule as cr
    from chainrule.explanations import diagram, ledger

    assert cr.explain is ledger.explain and cr.trace is diagram.trace
