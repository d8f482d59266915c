import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def run_cli(*argv, cwd=None, timeout=240, env=None):
    """Run ``python -m chainrule ARGV`` as a user would; return the CompletedProcess."""
    full_env = {**os.environ, "CHAINRULE_DATA": str(Path(cwd or ".") / "no-cache"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "chainrule", *map(str, argv)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=full_env)


def assert_one_line_error(done, code, *named):
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for word in named:
        assert word in lines[0], lines[0]
    return lines[0]


def weights_of(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k].copy() for k in f.files if not k.startswith("__")}


@pytest.fixture
def cli(tmp_path):
    def call(*argv, **kw):
        return run_cli(*argv, cwd=tmp_path, **kw)

    call.path = tmp_path
    call.json = lambda *argv: json.loads(run_cli(*argv, "--json", cwd=tmp_path).stdout)
    return call
