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
