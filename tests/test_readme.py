"""The README's tour is code users paste: it must run and say what it claims."""

import re
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
