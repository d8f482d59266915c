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
    code, _, err = run(capsys, "explain", "--input", "1,2,3", "--target", "1,0")
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
