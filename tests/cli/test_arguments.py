"""Bad flags: one line on stderr naming the problem, exit code 2, no traceback."""

import subprocess
import sys

import pytest

from chainrule.cli import main

BAD = [
    (["train", "--lr", "0"], "--lr"),
    (["train", "--lr", "-1"], "--lr"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--lr", "inf"], "--lr"),
    (["train", "--lr", "fast"], "'fast'"),
    (["train", "--batch-size", "0"], "--batch-size"),
    (["train", "--batch-size", "2.5"], "'2.5'"),
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--l2", "-0.1"], "--l2"),
    (["train", "--activation", "sigmoidd"], "sigmoid, tanh, relu"),
    (["train", "--cost", "mse"], "quadratic, cross-entropy, log-likelihood"),
    (["train", "--init", "glorot"], "scaled-normal"),
    (["train", "--optimizer", "rmsprop"], "sgd, momentum, adam, cg, lbfgs"),
    (["train", "--layers", "64,0,10"], "'0'"),
    (["train", "--layers", "64,a,10"], "'a'"),
    (["train", "--layers", ""], "layer sizes"),
    (["train", "--frobnicate"], "--frobnicate"),
    (["fly"], "fly"),
    (["graph", "a*b", "--at", "a=2,b=x"], "value of b"),
    (["graph", "a*b", "--at", "a2"], "name=value"),
    (["explain", "--input", "0.1,zz", "--target", "1"], "'zz'"),
    (["explain", "--input", "0.1"], "--target"),
]


@pytest.mark.parametrize(("argv", "named"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_flags_give_one_line_and_exit_2(argv, named, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("chainrule")
    assert named in lines[0]
    assert "Traceback" not in captured.err


def test_no_subcommand_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "train" in capsys.readouterr().out


def test_help_and_version_as_a_user_runs_them():
    for argv in (["--help"], ["train", "--help"], ["--version"]):
        done = subprocess.run([sys.executable, "-m", "chainrule", *argv],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "chainrule" in done.stdout
        assert done.stderr == ""


def test_a_mistyped_command_names_the_closest_one(cli):
    from tests.cli.conftest import assert_one_line_error

    line = assert_one_line_error(cli("trian"), 2, "'trian'", "did you mean train?")
    assert "evaluate" not in line     # the closest command, not the whole list
    assert line.startswith("chainrule: error: unknown command")   # the program named once


def test_an_error_names_the_program_once_and_the_command_when_there_is_one(cli):
    from tests.cli.conftest import assert_one_line_error

    top = assert_one_line_error(cli("--nope"), 2, "--nope")
    assert top.startswith("chainrule: error: unrecognized arguments: --nope")
    command = assert_one_line_error(cli("train", "--lr", "x"), 2, "--lr")
    assert command.startswith("chainrule: error: chainrule train: argument --lr")


def test_a_mistyped_flag_names_the_closest_flag_of_its_command(cli):
    from tests.cli.conftest import assert_one_line_error

    assert_one_line_error(cli("train", "--epocs", "3"), 2, "--epocs", "did you mean --epochs?")
    assert_one_line_error(cli("graph", "a", "--format", "jsn"), 2, "did you mean json?")


@pytest.mark.parametrize("argv, value", [
    (["graph", "-x*y", "--at", "x=2,y=3"], "-6"),
    (["graph", "--at", "x=2,y=3", "-x*y"], "-6"),
    (["graph", "-2*a", "--at", "a=1.5"], "-3"),
])
def test_an_expression_starting_with_minus_is_not_a_flag(cli, argv, value):
    done = cli(*argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].endswith(f": {value}"), done.stdout


@pytest.mark.parametrize("at", [["--at", "a=1,a=2"], ["--at", "a=1", "--at", "a=2"]])
def test_a_name_given_twice_to_at_is_refused(cli, at):
    from tests.cli.conftest import assert_one_line_error

    assert_one_line_error(cli("graph", "a*b", *at), 2, "a is given twice")


def test_repeated_at_flags_add_up(cli):
    done = cli("graph", "a*b", "--at", "a=2", "--at", "b=3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].endswith(": 6")


HELPED = ["gradcheck", "explain", "graph", "evaluate", "predict", "bench"]


@pytest.mark.parametrize("command", HELPED)
def test_every_flag_says_what_it_means_and_its_default(command):
    from chainrule.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    for action in sub._actions:
        if action.dest == "help":
            continue
        assert action.help, f"{command} {action.option_strings or action.dest}: no help"
        has_default = action.default not in (None, False, {}) and action.option_strings
        if has_default:
            assert "default" in action.help, f"{command} {action.option_strings}: no default"


def test_help_shows_defaults_as_a_user_sees_them(cli):
    done = cli("gradcheck", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "(default: 3,5,3 as ex4)" in text and "(default: 3.0, as ex4)" in text
    assert "seeds" not in text


@pytest.mark.parametrize("command", [["train", "--epochs", "1"], ["evaluate", "m.npz"]])
@pytest.mark.parametrize("flag", [["--data-dir", "."], ["--no-download"]])
def test_mnist_only_flags_are_refused_for_other_data(cli, command, flag):
    import chainrule as cr
    from tests.cli.conftest import assert_one_line_error

    cr.nn.save(cr.nn.Network([64, 5, 10], seed=0), cli.path / "m.npz")
    assert_one_line_error(cli(*command, "--data", "digits", *flag), 2, flag[0],
                          "mnist or fashion-mnist")


def test_evaluate_without_data_names_both_widths(cli):
    import chainrule as cr
    from tests.cli.conftest import assert_one_line_error

    cr.nn.save(cr.nn.Network([400, 25, 10], seed=0), cli.path / "wide.npz")
    assert_one_line_error(cli("evaluate", "wide.npz"), 2, "400 inputs", "has 64", "--data")


def test_data_help_lists_every_format_the_loaders_read(cli):
    text = " ".join(cli("evaluate", "--help").stdout.split())
    for name in ("digits", "mnist", "fashion-mnist", "FILE.csv", "FILE.npz", "FILE.mat",
                 "mnist.pkl.gz", "IDX"):
        assert name in text, name
