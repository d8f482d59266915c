"""`chainrule explain` and `chainrule graph` end to end, through the command line's main()."""

import json

import pytest

from chainrule.cli import main
from chainrule.explanations.ledger import MAZUR_EXAMPLE


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_mazur_as_json(tmp_path, capsys):
    net = tmp_path / "net.json"
    net.write_text(json.dumps(MAZUR_EXAMPLE))
    code, out, _ = run(capsys, "explain", "--net", str(net), "--input", "0.05,0.10",
                       "--target", "0.01,0.99", "--lr", "0.5", "--format", "json")
    assert code == 0
    ledger = json.loads(out)
    assert round(ledger["cost"], 9) == 0.298371109
    assert round(ledger["layers"][1]["new_weights"][0][0], 8) == 0.35891648   # w5+
    assert round(ledger["layers"][0]["new_weights"][0][0], 9) == 0.149780716  # w1+


def test_explain_random_network_and_a_width_error(capsys):
    code, out, _ = run(capsys, "explain", "--layers", "2,3,1", "--seed", "4", "--input", "1,2",
                       "--target", "1", "--format", "markdown")
    assert code == 0 and out.startswith("# One step of backpropagation")
    code, _, err = run(capsys, "explain", "--net", "mazur", "--input", "1,2,3", "--target", "1,0")
    assert code == 2 and err.count("\n") == 1 and "input has 3 value(s)" in err


def test_graph_seeds_example(capsys):
    code, out, _ = run(capsys, "graph", "(a+b)*(b+1)", "--at", "a=2,b=1", "--mode", "paths",
                       "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["value"] == 6.0 and data["gradients"] == {"a": 2.0, "b": 5.0}


@pytest.mark.parametrize("expression", ["__import__('os').system('echo pwned')",
                                        "a.__class__", "(" * 5000 + "a" + ")" * 5000])
def test_graph_refuses_hostile_expressions_in_one_line(capsys, expression):
    code, out, err = run(capsys, "graph", expression, "--at", "a=1")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("chainrule: error: ") and "pwned" not in out


def test_explain_without_a_network_says_what_to_give(capsys):
    code, out, err = run(capsys, "explain", "--input", "0.05,0.10", "--target", "0.01,0.99")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--net NET.json" in err and "M.npz" in err and "mazur" in err and "--layers" in err


def test_explain_mazur_by_name_is_the_worked_example(capsys):
    code, out, _ = run(capsys, "explain", "--net", "mazur", "--input", "0.05,0.10",
                       "--target", "0.01,0.99", "--lr", "0.5", "--format", "json")
    assert code == 0
    ledger = json.loads(out)
    assert round(ledger["cost"], 9) == 0.298371109                           # Mazur's E_total
    assert round(ledger["layers"][1]["new_weights"][0][0], 8) == 0.35891648   # w5+


def test_the_shipped_example_is_the_ledgers_mazur():
    from chainrule.explanations import ledger, networks

    shipped, known = networks.load_network("mazur"), ledger.load_net_json(MAZUR_EXAMPLE)
    for a, b in zip(shipped.weights + shipped.biases, known.weights + known.biases):
        assert (a == b).all()


def test_explain_a_trained_model_with_a_class_label(tmp_path, capsys):
    import numpy as np

    import chainrule as cr

    net = cr.nn.Network([3, 4, 3], output="softmax", cost="log-likelihood", seed=1,
                        dtype="float64")
    cr.nn.save(net, tmp_path / "m.npz")
    code, out, err = run(capsys, "explain", "--net", str(tmp_path / "m.npz"), "--input",
                         "0.5,-1,2", "--target", "2", "--format", "json")
    assert code == 0, err
    ledger = json.loads(out)
    assert ledger["target"] == [0.0, 0.0, 1.0]               # the label 2, one-hot
    a = net.forward(np.array([[0.5, -1, 2]]))[0]
    assert ledger["cost"] == pytest.approx(-np.log(a[2]))     # log-likelihood of the label
    assert ledger["layers"][0]["weights"] == net.weights[0].tolist()


@pytest.mark.parametrize("target", ["3", "1.5", "-1"])
def test_explain_a_label_outside_the_classes_is_refused(capsys, target):
    code, _, err = run(capsys, "explain", "--net", "mazur", "--input", "1,2", "--target", target)
    assert code == 2 and err.count("\n") == 1 and "class label" in err and "0..1" in err


def test_explain_an_unknown_name_lists_the_examples(capsys):
    code, _, err = run(capsys, "explain", "--net", "mazurr", "--input", "1,2", "--target", "1")
    assert code == 2 and "mazurr" in err and "mazur" in err.split("one of:")[1]
