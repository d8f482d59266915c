"""How the command line ends: a closed pipe quietly, and --debug with the same exit code."""

import os
import subprocess
import sys

import pytest

from tests.cli.conftest import run_cli


def test_a_reader_that_leaves_early_ends_the_run_quietly_with_141(tmp_path):
    # `chainrule train | head -1`: the pipe closes after one line
    env = {**os.environ, "CHAINRULE_DATA": str(tmp_path)}
    train = subprocess.Popen([sys.executable, "-m", "chainrule", "train", "--epochs", "200"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = train.stdout.readline()
    train.stdout.close()                      # head exits
    _, err = train.communicate(timeout=240)
    assert first.startswith(b"chainrule: digits:")
    assert train.returncode == 141
    assert err == b""                          # no "error: Broken pipe"


@pytest.mark.parametrize(("argv", "code"), [
    (["train", "--lr", "-1"], 2),                       # bad input
    (["evaluate", "missing.npz"], 2),                    # a file that is not there
])
def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path, argv, code):
    plain = run_cli(*argv, cwd=tmp_path)
    debug = run_cli("--debug", *argv, cwd=tmp_path)
    assert plain.returncode == debug.returncode == code
    assert "Traceback" not in plain.stderr
    assert "Traceback" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip()


def test_a_warning_is_one_line_without_a_source_path(tmp_path):
    done = run_cli("train", "--init", "zeros", "--epochs", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("chainrule: warning: init='zeros'")
    assert ".py" not in lines[0]
