"""The network ``chainrule explain`` explains: a NET.json, a trained model file, or an example
shipped with chainrule by name (``mazur``: Matt Mazur's step-by-step example).

>>> list(load_network("mazur").sizes)
[2, 2, 2]
>>> target_vector([1], 3).tolist()           # a class label, as ``chainrule train`` takes them
[0.0, 1.0, 0.0]
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from chainrule.errors import InputError, quoted
from chainrule.reading import loads_json


def example_names() -> list:
    """The example networks shipped with chainrule (``chainrule explain --net NAME``)."""
    folder = resources.files("chainrule.explanations") / "nets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_network(spec: str):
    """A float64 Network from an example's name, a ``.npz`` model (as ``train --save`` writes
    it, or ex4's ``.mat`` weights) or a NET.json path."""
    from chainrule.explanations import ledger

    path = Path(spec)
    if not path.exists() and spec in example_names():
        text = (resources.files("chainrule.explanations") / "nets" / f"{spec}.json").read_text()
        return ledger.load_net_json(loads_json(text, f"--net {spec}"))
    if path.suffix.lower() in (".npz", ".mat"):
        from chainrule import nn

        return nn.load(path).astype("float64")
    if not path.exists() and path.suffix == "":
        raise InputError(f"--net: no file {quoted(spec)} and no example of that name; give a "
                         f"NET.json, a model M.npz or one of: {', '.join(example_names())}")
    return ledger.load_net_json(path)


def target_vector(values, width: int) -> np.ndarray:
    """``--target``: ``width`` target values, or one class label in 0..width-1 (one-hot)."""
    values = list(values)
    if width > 1 and len(values) == 1:
        label = values[0]
        if label != int(label) or not 0 <= label < width:
            raise InputError(f"--target: one value is read as a class label, and {label:g} is "
                             f"not one of 0..{width - 1} (or give {width} target values)")
        one_hot = np.zeros(width)
        one_hot[int(label)] = 1.0
        return one_hot
    return np.asarray(values, dtype=np.float64)
