"""The README's tour is code users paste: it must run and say what it claims."""

import json
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_tour_runs(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    code = re.search(r"## A short tour\n\n```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(code, "README tour", "exec"), scope)  # the README's own code, nothing else
    assert [g.tolist() for g in scope["cr"].grad(scope["f"], argnums=(0, 1))(2.0, 1.0)] == [2, 5]
    assert scope["tangent"] == 5
    assert scope["theta"].shape == (64 * 30 + 30 + 30 * 10 + 10,)
    assert scope["history"].train_accuracy[-1] > 0.9
    assert (tmp_path / "digits.npz").exists()


def test_quick_start_holds_two_commands():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Quick start\n\n```bash\n(.*?)```", text, re.S).group(1)
    assert block.splitlines() == [
        "python -m pip install -e . && python -m chainrule train",
        "python -m pip install -e '.[test]' && python -m pytest -q",
    ]


def test_the_readmes_explain_command_runs_as_written(tmp_path):
    import os
    import shlex
    import subprocess
    import sys

    line = next(l for l in README.read_text(encoding="utf-8").splitlines()
                if l.startswith("chainrule explain "))
    argv = shlex.split(line.split("#")[0])[1:]
    done = subprocess.run([sys.executable, "-m", "chainrule", *argv], cwd=tmp_path,  # not the repo
                          capture_output=True, text=True, env=os.environ, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "0.298371109" in done.stdout           # Mazur's E_total


def _project_values(text, keys):
    """``[project]``'s string and list-of-strings values, read without a TOML parser (Python
    3.10 has no tomllib; these values are written as JSON would write them)."""
    section = re.search(r"^\[project\]\n(.*?)(?=^\[|\Z)", text, re.S | re.M).group(1)
    return {key: json.loads(re.search(rf"^{re.escape(key)}\s*=\s*(.+?)\s*$", section,
                                      re.M).group(1)) for key in keys}


def test_the_license_is_shipped_and_named_as_spdx():
    root = README.parent
    text = (root / "pyproject.toml").read_text()
    project = _project_values(text, ("license", "license-files"))
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    if sys.version_info >= (3, 11):     # the reader agrees with a TOML parser where there is one
        import tomllib

        parsed = tomllib.loads(text)["project"]
        assert project == {key: parsed[key] for key in project}
    text = (root / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 the chainrule authors" in text
