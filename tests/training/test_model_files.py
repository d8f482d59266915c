"""Model files: exact round trips, checkpoints, and refusing everything that is not one."""

from __future__ import annotations

import io
import json
import math
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.errors import InputError
from chainrule.nn.io import load, save
from chainrule.training.checkpoint import load_checkpoint


def trained(tmp_path, dtype="float32", optimizer=None, **kwargs):
    """A small network trained 2 epochs with a checkpoint; returns (net, path)."""
    rng = np.random.default_rng(0)
    X, y = rng.random((30, 4)), rng.integers(0, 3, 30)
    net = cr.nn.Network([4, 5, 3], cost="log-likelihood", seed=1, dtype=dtype)
    path = tmp_path / "model.npz"
    cr.train(net, X, y, epochs=2, batch_size=7, optimizer=optimizer or cr.optim.Adam(0.01),
             progress=False, checkpoint=path, **kwargs)
    return net, path


def members(path):
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def write_members(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def rewrite_meta(path, change):
    entries = members(path)
    meta = json.loads(np.load(io.BytesIO(entries["__meta__.npy"])).tobytes())
    change(meta)
    text = json.dumps(meta).encode()
    entries["__meta__.npy"] = npy_bytes(np.frombuffer(text, dtype=np.uint8))
    write_members(path, entries)


# ----------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_is_exact(tmp_path, dtype):
    net = cr.nn.Network([5, 7, 3], activation="tanh", cost="cross-entropy", init="xavier",
                        seed=3, dtype=dtype)
    save(net, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz")
    assert back.config() == net.config() and back.dtype == np.dtype(dtype)
    for a, b in zip(back.params, net.params):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    X = np.random.default_rng(0).random((4, 5))
    assert np.array_equal(back.forward(X), net.forward(X))
    assert load_checkpoint(tmp_path / "m.npz")[1] is None


def test_checkpoint_holds_the_training_state(tmp_path):
    net, path = trained(tmp_path, metadata={"data": "toy"})
    back, state = load_checkpoint(path)
    assert np.array_equal(back.to_vector(), net.to_vector())
    assert state.epoch == 2 and len(state.history) == 2 and state.metadata == {"data": "toy"}
    assert state.optimizer.config() == cr.optim.Adam(0.01).config()
    assert state.optimizer.t == 2 * 5                  # 30 rows in batches of 7: 5 steps/epoch
    assert all(m.shape == p.shape for m, p in zip(state.optimizer.state_dict()["m"], net.params))
    assert state.rng_state["bit_generator"] == "PCG64"
    assert sorted(members(path)) == sorted(
        [f"{k}.npy" for k in ("W1", "b1", "W2", "b2", "__meta__")]
        + [f"optimizer.{k}.{i}.npy" for k in "mv" for i in range(4)])


def test_save_adds_no_suffix_and_leaves_no_temporary_files(tmp_path):
    net = cr.nn.Network([2, 2], seed=0)
    save(net, tmp_path / "model")
    assert sorted(os.listdir(tmp_path)) == ["model"]
    assert np.array_equal(load(tmp_path / "model").to_vector(), net.to_vector())


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    old = cr.nn.Network([2, 2], seed=0)
    save(old, path)
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save(cr.nn.Network([2, 2], seed=1), path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_metadata_that_is_not_json_is_an_input_error(tmp_path):
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match="JSON"):
        cr.train(cr.nn.Network([2, 2], seed=0), rng.random((4, 2)), [0, 1, 0, 1], epochs=1,
                 progress=False, checkpoint=tmp_path / "m.npz", metadata={"f": print})


# ----------------------------------------------------------------- refusals
class Hostile:
    """Unpickling this object creates ``path``: proof that code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("entry", ["W1.npy", "__meta__.npy", "optimizer.m.0.npy"])
def test_a_hostile_pickle_inside_the_npz_is_never_executed(tmp_path, entry):
    _, path = trained(tmp_path)
    marker = tmp_path / "pwned"
    entries = members(path)
    entries[entry] = npy_bytes(np.array([Hostile(marker)], dtype=object), allow_pickle=True)
    write_members(path, entries)
    assert b"pwned" in path.read_bytes()                # the payload really is in the file
    with pytest.raises(InputError, match=r"model.npz: .*(Python objects|pickled)"):
        load_checkpoint(path)
    assert not marker.exists()


def test_a_bare_pickle_file_is_refused(tmp_path):
    import pickle

    marker = tmp_path / "pwned"
    path = tmp_path / "m.npz"
    path.write_bytes(pickle.dumps(Hostile(marker)))
    with pytest.raises(InputError, match="not a chainrule model"):
        load(path)
    assert not marker.exists()


def test_truncated_files_are_refused_at_every_cut(tmp_path):
    _, path = trained(tmp_path)
    data = path.read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 60)):
        path.write_bytes(data[:cut])
        with pytest.raises(InputError, match=r"model.npz: (truncated or corrupt zip|not a "
                                             r"chainrule model)"):
            load(path)


@pytest.mark.parametrize("drop, message", [
    ("__meta__.npy", r"not a chainrule model \(no __meta__ entry\)"),
    ("W2.npy", "missing W2"),
    ("optimizer.v.3.npy", r"missing optimizer\.v\.3"),
])
def test_missing_entries_are_named(tmp_path, drop, message):
    _, path = trained(tmp_path)
    entries = members(path)
    del entries[drop]
    write_members(path, entries)
    with pytest.raises(InputError, match=message):
        load_checkpoint(path)


def test_wrong_shapes_and_dtypes_are_named(tmp_path):
    _, path = trained(tmp_path)
    entries = members(path)
    entries["W2.npy"] = npy_bytes(np.zeros((5, 3), dtype=np.float32))
    write_members(path, entries)
    with pytest.raises(InputError, match=r"W2 has shape \(5, 3\), expected \(3, 5\)"):
        load(path)
    entries["W2.npy"] = npy_bytes(np.zeros((3, 5), dtype=np.float64))
    write_members(path, entries)
    with pytest.raises(InputError, match="W2 has dtype float64, expected float32"):
        load(path)


def test_future_and_foreign_formats_are_refused(tmp_path):
    _, path = trained(tmp_path)
    rewrite_meta(path, lambda m: m.update(version=9))
    with pytest.raises(InputError, match=r"format version 9 is newer than this chainrule \(1\)"):
        load(path)
    rewrite_meta(path, lambda m: m.update(version=1, format="keras"))
    with pytest.raises(InputError, match="not a chainrule model"):
        load(path)


@pytest.mark.parametrize("change, message", [
    (lambda m: m["config"].update(sizes=[4, 0, 3]), "sizes"),
    (lambda m: m["config"].update(activation="swish"), "activation"),
    (lambda m: m["config"].update(dtype="float16"), "dtype"),
    (lambda m: m["config"].update(init=["uniform"]), "init must be a name"),
    (lambda m: m["config"].update(sizes=[4, 10**12, 3]), "W1 has shape"),
    (lambda m: m.update(config="sizes"), "no config"),
    (lambda m: m.update(params=["W1", "b1"]), "params"),
    (lambda m: m["training"].update(epoch=5), "epoch 5 does not match"),
    (lambda m: m["training"]["optimizer"].update(name="Adagrad"), "Adagrad"),
    (lambda m: m["training"]["optimizer"].update(lr=-1.0), "lr"),
    (lambda m: m["training"].update(rng={"bit_generator": "MT19937"}), "rng"),
    (lambda m: m["training"]["history"].update(lr=[1.0]), "same length"),
    (lambda m: m["training"].update(metadata=[1]), "metadata"),
    (lambda m: m["training"].pop("seed"), "expected the keys"),
    (lambda m: m["training"]["history"]["train_accuracy"].__setitem__(1, 1.5),
     r"train_accuracy\[1\] is 1.5"),
    (lambda m: m["training"]["history"]["time"].__setitem__(0, -2.0), r"time\[0\]"),
    (lambda m: m["training"]["history"]["epoch"].__setitem__(1, 7), r"epoch\[1\] is 7"),
    (lambda m: m["training"]["history"]["val_cost"].__setitem__(0, float("inf")),
     "val_cost|Infinity"),
    (lambda m: m["training"]["optimizer_state"].update(lr=float("nan")), "lr|NaN"),
])
def test_inconsistent_metadata_is_refused(tmp_path, change, message):
    _, path = trained(tmp_path)
    rewrite_meta(path, change)
    with pytest.raises(InputError, match=message):
        load_checkpoint(path)


@pytest.mark.parametrize("name", ["W1", "b2", "optimizer.m.0", "optimizer.v.3",
                                  "early_stopping.best_params"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_every_array_of_a_checkpoint_must_be_finite(tmp_path, name, bad):
    _, path = trained(tmp_path, validation=(np.eye(4), [0, 1, 2, 0]),
                      early_stopping=cr.training.EarlyStopping("val_cost", patience=5))
    entries = members(path)
    array = np.load(io.BytesIO(entries[name + ".npy"])).copy()
    array.flat[-1] = bad
    entries[name + ".npy"] = npy_bytes(array)
    write_members(path, entries)
    for read in (load, load_checkpoint):       # the model alone reads the training arrays too
        with pytest.raises(InputError, match=rf"model\.npz: {name} contains NaN or infinite"):
            read(path)


def test_restored_states_must_be_finite():
    params = [np.zeros((2, 2)), np.zeros(2)]
    adam = cr.optim.Adam()
    good = {"lr": 1e-3, "step": 3, "m": [np.zeros((2, 2)), np.zeros(2)],
            "v": [np.ones((2, 2)), np.ones(2)]}
    adam.load_state_dict(good, params)
    with pytest.raises(InputError, match=r"m\[1\]: contains NaN"):
        adam.load_state_dict({**good, "m": [np.zeros((2, 2)), np.array([0.0, np.nan])]}, params)
    with pytest.raises(InputError, match=r"v\[0\]: negative"):
        adam.load_state_dict({**good, "v": [-np.ones((2, 2)), np.ones(2)]}, params)
    momentum = cr.optim.SGD(momentum=0.9)
    with pytest.raises(InputError, match=r"velocity\[0\]: contains NaN or infinite"):
        momentum.load_state_dict({"lr": 1.0, "velocity": [np.full((2, 2), np.inf), np.zeros(2)]},
                                 params)
    stop = cr.training.EarlyStopping("val_cost")
    with pytest.raises(InputError, match="best_params must be a vector of finite floats"):
        stop.load_state_dict({"best": 0.5, "best_epoch": 1, "wait": 0,
                              "best_params": np.array([0.0, np.nan])})


def test_deeply_nested_metadata_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    save(cr.nn.Network([2, 2], seed=0), path)
    entries = members(path)
    text = b'{"format": "chainrule-model", "version": 1, "config": ' + b"[" * 100_000 \
        + b"]" * 100_000 + b"}"
    entries["__meta__.npy"] = npy_bytes(np.frombuffer(text, dtype=np.uint8))
    write_members(path, entries)
    with pytest.raises(InputError, match=r"m\.npz: __meta__: JSON nested too deeply \(100001"):
        load(path)


def test_other_odd_files(tmp_path):
    path = tmp_path / "m.npz"
    np.save(path.with_suffix(".npy"), np.zeros(3))
    os.replace(path.with_suffix(".npy"), path)
    with pytest.raises(InputError, match=r"a single \.npy array"):
        load(path)
    path.write_text("W1,b1\n1,2\n")
    with pytest.raises(InputError, match=r"not an \.npz archive"):
        load(path)
    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "absent.npz")
    with pytest.raises(InputError, match="directory"):
        load(tmp_path)
    net = cr.nn.Network([2, 2], seed=0)
    save(net, path)
    entries = members(path)
    entries["notes.txt"] = b"hello"
    write_members(path, entries)
    with pytest.raises(InputError, match="unexpected entry 'notes.txt'"):
        load(path)
    del entries["notes.txt"]
    entries["extra.npy"] = npy_bytes(np.zeros(2))
    write_members(path, entries)
    with pytest.raises(InputError, match="unexpected entry 'extra'"):
        load(path)
    del entries["extra.npy"]
    entries["W1.npy"] = npy_bytes(np.full((2, 2), np.nan, dtype=np.float32))
    write_members(path, entries)
    with pytest.raises(InputError, match="W1 contains NaN"):
        load(path)


def test_compressed_members_are_refused(tmp_path):
    """np.savez stores arrays as they are; a deflated member could be a zip bomb."""
    path = tmp_path / "m.npz"
    save(cr.nn.Network([2, 2], seed=0), path)
    entries = members(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    with pytest.raises(InputError, match="compressed"):
        load(path)


def test_engine_models_are_saved_but_not_loaded_as_networks(tmp_path):
    from chainrule.nn.functional import EngineModel

    model = EngineModel(lambda params, X: X @ params[0], [np.ones((2, 3))], n_inputs=2)
    save(model, tmp_path / "e.npz")
    assert sorted(members(tmp_path / "e.npz")) == ["__meta__.npy", "p0.npy"]
    with pytest.raises(InputError, match="engine-defined model"):
        load(tmp_path / "e.npz")


# ----------------------------------------------------------------- fuzzing
@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    net, path = trained(tmp_path_factory.mktemp("fuzz"), optimizer=cr.optim.SGD(0.1, 0.9))
    return path.read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_model_files_only_raise_input_errors(tmp_path_factory, checkpoint_bytes, data):
    raw = bytearray(checkpoint_bytes)
    for _ in range(data.draw(st.integers(1, 8))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        at = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if kind == "flip" and raw:
            raw[at] ^= data.draw(st.integers(1, 255))
        elif kind == "cut":
            del raw[at:at + data.draw(st.integers(1, 64))]
        elif kind == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        else:
            raw[at:at + 8] = bytes(len(raw[at:at + 8]))
    path = tmp_path_factory.mktemp("fuzzed") / "m.npz"
    path.write_bytes(bytes(raw))
    try:
        net, state = load_checkpoint(path)
    except InputError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
        return
    assert np.isfinite(net.to_vector()).all()          # whatever loads is a usable network


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=8) | st.sampled_from(["sigmoid", "float32", "SGD", "Adam", "step"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=6)


def json_paths(value, prefix=()):
    yield prefix
    items = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    for key, inner in items:
        yield from json_paths(inner, (*prefix, key))


@pytest.fixture(scope="module")
def early_stopping_checkpoint(tmp_path_factory):
    rng = np.random.default_rng(0)
    X, y = rng.random((30, 4)), rng.integers(0, 3, 30)
    path = tmp_path_factory.mktemp("es") / "m.npz"
    cr.train(cr.nn.Network([4, 5, 3], seed=0), X, y, epochs=3, validation=(X, y),
             optimizer=cr.optim.Adam(0.01, schedule=cr.optim.StepDecay(2)),
             early_stopping=cr.training.EarlyStopping(patience=1), checkpoint=path,
             progress=False)
    entries = members(path)
    meta = json.loads(np.load(io.BytesIO(entries["__meta__.npy"])).tobytes())
    return entries, meta, (X, y)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_metadata_is_refused_or_resumes_cleanly(tmp_path_factory, data,
                                                       early_stopping_checkpoint):
    """Any JSON value anywhere in the metadata: InputError on load, or a run that resumes."""
    entries, meta, (X, y) = early_stopping_checkpoint
    meta = json.loads(json.dumps(meta))
    paths = [p for p in json_paths(meta) if p and p[:2] != ("training", "history")]
    paths += [("training", "history", key) for key in meta["training"]["history"]]
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(paths))
        parent = meta
        try:
            for key in where[:-1]:
                parent = parent[key]
            parent[where[-1]] = data.draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue                                     # an earlier change removed the path
    entries = {**entries, "__meta__.npy": npy_bytes(
        np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))}
    path = tmp_path_factory.mktemp("meta") / "m.npz"
    write_members(path, entries)
    try:
        net, state = load_checkpoint(path)
        if state is not None:
            cr.train(net, X, y, epochs=state.epoch + 2, resume=state, validation=(X, y),
                     early_stopping=cr.training.EarlyStopping(patience=1), progress=False)
    except InputError as error:
        assert "\n" not in str(error)
    except cr.errors.RunFailed:
        pass                                             # e.g. a learning rate of 1e308


HUGE = 10 ** 400


@pytest.mark.parametrize("change", [
    lambda m: m.update(version=HUGE),
    lambda m: m["config"].update(sizes=[4, HUGE, 3]),
    lambda m: m["training"]["history"]["time"].__setitem__(0, HUGE),
    lambda m: m["training"]["optimizer"].update(lr=HUGE),
    lambda m: m["training"].update(seed=HUGE),
    lambda m: m["training"]["optimizer"].update(
        schedule={"name": "step", "every": 1, "factor": HUGE}),
])
def test_numbers_beyond_range_in_the_metadata_are_refused_where_read(tmp_path, change):
    _, path = trained(tmp_path)
    rewrite_meta(path, change)
    with pytest.raises(InputError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: __meta__: the integer 1000"), message
    assert "has 401 digits" in message and len(message) < len(str(path)) + 200


@pytest.mark.parametrize("text", ["1e400", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_in_the_metadata_are_refused(tmp_path, text):
    _, path = trained(tmp_path)
    rewrite_meta(path, lambda m: m["training"]["history"]["time"].__setitem__(0, "@"))
    entries = members(path)
    raw = np.load(io.BytesIO(entries["__meta__.npy"])).tobytes().replace(b'"@"', text.encode())
    entries["__meta__.npy"] = npy_bytes(np.frombuffer(raw, dtype=np.uint8))
    write_members(path, entries)
    with pytest.raises(InputError, match=rf"model\.npz: __meta__: .*{text.lstrip('-')}"):
        load_checkpoint(path)


@pytest.mark.parametrize("depth", [65, 900])
def test_metadata_nested_beyond_the_limit_is_refused(tmp_path, depth):
    _, path = trained(tmp_path)
    nested = {}
    for _ in range(depth):
        nested = {"x": nested}
    rewrite_meta(path, lambda m: m["training"].update(metadata=nested))
    with pytest.raises(InputError, match=r"__meta__: JSON nested too deeply \(\d+ levels; at most"):
        load_checkpoint(path)


def test_a_schedule_whose_rate_is_not_finite_ends_the_run_naming_the_schedule():
    # a user's own schedule (any callable) that gives η = inf for the third epoch: the run ends
    # there naming the schedule (not "try a smaller learning rate"), the weights of epoch 2 kept
    def schedule(epoch, base_lr, history):
        return math.inf if epoch >= 2 else base_lr

    X, y = cr.data.load_digits(split="train")
    net = cr.nn.Network([64, 5, 10], seed=0)
    with pytest.raises(cr.errors.RunFailed, match=r"the learning-rate schedule .* gives η = inf "
                                                  r"for epoch 3; the epochs before it are kept"):
        cr.train(net, X[:50], y[:50], epochs=6, batch_size=10,
                 optimizer=cr.optim.SGD(lr=0.5, schedule=schedule), progress=False)
    two = cr.nn.Network([64, 5, 10], seed=0)
    cr.train(two, X[:50], y[:50], epochs=2, batch_size=10, optimizer=cr.optim.SGD(lr=0.5),
             progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(net.params, two.params))


def test_a_schedule_a_checkpoint_cannot_record_is_refused_before_the_first_epoch(tmp_path):
    X, y = cr.data.load_digits(split="train")
    net = cr.nn.Network([64, 5, 10], seed=0)
    before = [p.copy() for p in net.params]
    optimizer = cr.optim.SGD(lr=0.5, schedule=lambda epoch, base_lr, history: base_lr)
    with pytest.raises(InputError, match=r"schedule: .* has no config\(\), so a checkpoint "
                                         r"cannot record it"):
        cr.train(net, X[:50], y[:50], epochs=2, batch_size=10, optimizer=optimizer,
                 checkpoint=tmp_path / "run.npz", progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(net.params, before))   # nothing trained
    assert not (tmp_path / "run.npz").exists()
    assert "schedule=custom" in repr(optimizer)


def test_a_schedule_that_overflows_gives_infinity_not_an_internal_error():
    assert cr.optim.StepDecay(every=1, factor=1e300)(3, 1.0, None) == math.inf   # 1e900
    assert cr.optim.StepDecay(every=1, factor=1e-300)(3, 1.0, None) == 0.0
    with pytest.raises(InputError, match="factor"):
        cr.optim.StepDecay(every=1, factor=HUGE)
    with pytest.raises(InputError, match="lr"):
        cr.optim.SGD(lr=HUGE)
