"""Whatever a user feeds the CLI: one clear line, the right exit code, nothing on disk damaged."""

import gzip
import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import chainrule as cr
from tests.cli.conftest import assert_one_line_error, weights_of


def write(path, text):
    path.write_text(text)
    return path.name


CSV_CASES = [  # places are file:line:column, as compilers print them
    ("1,2,0\n3,x,1\n", ["bad.csv:2:2", "'x'"]),
    ("1,2,0\n3,4\n", ["bad.csv:2", "ragged"]),
    ("", ["bad.csv", "empty"]),
    ("1,2,0\n3,nan,1\n", ["bad.csv:2:2", "nan"]),
    ("1,2,0\n3,4,1.5\n", ["bad.csv:2:3", "1.5"]),
    ("1,2,0\n3,4,-1\n", ["bad.csv:2:3", "-1"]),
]


@pytest.mark.parametrize(("text", "named"), CSV_CASES)
def test_broken_csv_is_named_with_its_line(cli, text, named):
    write(cli.path / "bad.csv", text)
    done = cli("train", "--data", "bad.csv", "--epochs", "1")
    line = assert_one_line_error(done, 2)
    for word in named:
        assert word.lower() in line.lower(), line


def test_labels_beyond_the_output_layer(cli):
    rows = [[0.1, 0.2, c] for c in (0, 1, 2, 3, 4)] * 4
    np.savetxt(cli.path / "five.csv", rows, delimiter=",", fmt="%g")
    line = assert_one_line_error(
        cli("train", "--data", "five.csv", "--layers", "2,4,3", "--epochs", "1"), 2)
    assert "3" in line and "5" in line


def test_layers_that_do_not_fit_the_data(cli):
    assert_one_line_error(cli("train", "--layers", "64,30,3", "--epochs", "1"), 2, "10 classes")


def test_missing_files(cli):
    assert_one_line_error(cli("train", "--data", "nowhere.csv"), 2, "nowhere.csv")
    assert_one_line_error(cli("evaluate", "nowhere.npz"), 2, "nowhere.npz")
    assert_one_line_error(cli("train", "--resume", "nowhere.npz"), 2, "nowhere.npz")
    assert_one_line_error(cli("train", "--data", "data.txt"), 2, "data.txt")


def test_mnist_offline_without_files(cli):
    (cli.path / "empty").mkdir()
    assert_one_line_error(cli("train", "--data", "mnist", "--data-dir", "empty",
                              "--no-download"), 2, "mnist")


def idx_bytes(array, magic):
    dims = b"".join(struct.pack(">I", d) for d in array.shape)
    return struct.pack(">I", magic) + dims + array.astype(np.uint8).tobytes()


@pytest.mark.parametrize("damage", ["magic", "short", "truncated-gzip"])
def test_corrupt_idx_files(cli, damage):
    folder = cli.path / "mnist"
    folder.mkdir()
    images = idx_bytes(np.zeros((20, 28, 28)), 0x803)
    labels = idx_bytes(np.arange(20) % 10, 0x801)
    if damage == "magic":
        images = struct.pack(">I", 0x1234) + images[4:]
    elif damage == "short":
        images = images[:-100]
    for split in ("train", "t10k"):
        (folder / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
        packed = gzip.compress(images)
        if damage == "truncated-gzip":
            packed = packed[: len(packed) // 2]
        (folder / f"{split}-images-idx3-ubyte.gz").write_bytes(packed)
    done = cli("train", "--data", "mnist", "--data-dir", ".", "--no-download", "--epochs", "1")
    assert_one_line_error(done, 2, "images-idx3-ubyte")


@pytest.fixture
def model(cli):
    assert cli("train", "--epochs", "1", "--save", "m.npz", "--quiet").returncode == 0
    return cli.path / "m.npz"


def test_files_that_are_not_models(cli, model):
    (cli.path / "noise.npz").write_bytes(os.urandom(2000))
    assert_one_line_error(cli("evaluate", "noise.npz"), 2, "noise.npz")
    (cli.path / "cut.npz").write_bytes(model.read_bytes()[:3000])
    assert_one_line_error(cli("evaluate", "cut.npz"), 2, "cut.npz")
    np.savez(cli.path / "plain.npz", X=np.zeros(3))
    assert_one_line_error(cli("evaluate", "plain.npz"), 2, "plain.npz")


def test_future_format_version_is_refused(cli, model):
    with np.load(model, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(bytes(arrays["__meta__"]).decode())
    meta["version"] = 99
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(cli.path / "future.npz", **arrays)
    assert_one_line_error(cli("evaluate", "future.npz"), 2, "99")


class Boom:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_hostile_pickle_inside_a_model_runs_nothing(cli, model):
    marker = cli.path / "pwned"
    with np.load(model, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    buffer = io.BytesIO()
    np.save(buffer, np.array([Boom(str(marker))], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(cli.path / "hostile.npz", "w") as z:
        for key, value in arrays.items():
            one = io.BytesIO()
            np.save(one, value)
            name = "W1.npy" if key == "W1" else f"{key}.npy"
            z.writestr(name, buffer.getvalue() if key == "W1" else one.getvalue())
    for command in (["evaluate", "hostile.npz"], ["predict", "hostile.npz", "x.csv"],
                    ["train", "--resume", "hostile.npz"], ["gradcheck", "hostile.npz"]):
        done = cli(*command)
        assert_one_line_error(done, 2, "hostile.npz")
        assert not marker.exists()


@pytest.fixture
def adam_checkpoint(cli):
    """A real checkpoint of `chainrule train` with Adam's moments and early stopping's weights."""
    done = cli("train", "--epochs", "2", "--optimizer", "adam", "--patience", "5", "--save",
               "run.npz", "--quiet")
    assert done.returncode == 0, done.stderr
    return cli.path / "run.npz"


def rewrite_array(path, name, change):
    """Rewrite the .npz at ``path`` with ``change(array)`` applied to its member ``name``."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k].copy() for k in f.files}
    change(arrays[name])
    np.savez(path, **arrays)


@pytest.mark.parametrize(("name", "bad"), [
    ("optimizer.m.0", np.nan), ("optimizer.v.3", np.inf), ("early_stopping.best_params", np.nan),
    ("training.params", -np.inf), ("W2", np.nan)])
def test_a_checkpoint_with_a_non_finite_array_is_bad_input(cli, adam_checkpoint, name, bad):
    def poison(a):
        a.flat[a.size // 2] = bad

    rewrite_array(adam_checkpoint, name, poison)
    before = adam_checkpoint.read_bytes()
    done = cli("train", "--resume", "run.npz", "--epochs", "4", "--quiet")
    line = assert_one_line_error(done, 2, "run.npz", name, "NaN or infinite")
    assert "learning rate" not in line and "diverged" not in line
    assert adam_checkpoint.read_bytes() == before      # nothing trained, nothing overwritten
    assert_one_line_error(cli("evaluate", "run.npz"), 2, "run.npz", name)
    np.savetxt(cli.path / "x.csv", np.zeros((1, 64)), delimiter=",")
    assert_one_line_error(cli("predict", "run.npz", "x.csv"), 2, "run.npz", name)


def test_a_checkpoint_with_negative_adam_second_moments_is_bad_input(cli, adam_checkpoint):
    rewrite_array(adam_checkpoint, "optimizer.v.0", lambda v: np.negative(v, out=v))
    done = cli("train", "--resume", "run.npz", "--epochs", "4", "--quiet")
    assert_one_line_error(done, 2, "run.npz", "v[0]", "negative")


def test_a_diverging_run_exits_1_and_keeps_the_good_model(cli, model):
    before = model.read_bytes()
    done = cli("train", "--activation", "relu", "--output", "identity", "--cost", "quadratic",
               "--lr", "1e6", "--epochs", "3", "--save", "m.npz")
    line = assert_one_line_error(done, 1)
    assert "lr" in line.lower() or "learning rate" in line.lower() or "η" in line
    assert model.read_bytes() == before


def test_explain_widths_must_fit_the_network(cli):
    mazur = ("--net", "mazur")
    assert_one_line_error(cli("explain", *mazur, "--input", "1,2,3", "--target", "0,1"), 2,
                          "input")
    assert_one_line_error(cli("explain", *mazur, "--input", "1,2", "--target", "0,1,1"), 2,
                          "target")


def test_graph_refuses_code(cli):
    done = cli("graph", "__import__('os').system('touch pwned')", "--at", "a=1")
    assert_one_line_error(done, 2)
    assert not (cli.path / "pwned").exists()
    assert_one_line_error(cli("graph", "a*b", "--at", "a=1"), 2, "b")


def test_kill_9_during_training_never_leaves_a_broken_model(cli):
    """kill -9 at several moments of a run that saves after every epoch: the file on disk is
    always a complete model (the previous epoch's or the new one), never a torn write."""
    X, y = cr.data.load_digits()
    np.savez(cli.path / "big.npz", X=np.repeat(X, 3, axis=0), y=np.repeat(y, 3))
    seen_epochs = set()
    for delay in (0.9, 1.3, 1.7, 2.1, 2.6):
        proc = subprocess.Popen(
            [sys.executable, "-m", "chainrule", "train", "--data", "big.npz", "--epochs", "500",
             "--hidden", "200", "--batch-size", "5", "--save", "m.npz", "--quiet"],
            cwd=cli.path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if not (cli.path / "m.npz").exists():
            continue
        net, state = cr.training.load_checkpoint(cli.path / "m.npz")
        assert net.sizes == [64, 200, 10]
        seen_epochs.add(state.epoch)
        done = cli("evaluate", "m.npz", "--data", "big.npz", "--json")
        assert done.returncode == 0, done.stderr
    assert seen_epochs, "no run lived long enough to save an epoch"
    leftovers = list(cli.path.glob(".m.npz.*.tmp"))
    assert len(leftovers) <= 1, leftovers  # each run removes what the killed ones left


def test_unwritable_save_path_is_an_input_error(cli):
    done = cli("train", "--epochs", "1", "--save", "no/such/dir/m.npz")
    assert_one_line_error(done, 2, "no/such/dir")


def test_same_flags_same_weights(cli):
    for name in ("a", "b"):
        assert cli("train", "--epochs", "2", "--save", f"{name}.npz", "--quiet").returncode == 0
    a, b = weights_of(cli.path / "a.npz"), weights_of(cli.path / "b.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_numbers_and_nesting_beyond_bounds_in_files_are_bad_input(cli, model):
    huge = "9" * 400
    with np.load(model, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    text = bytes(arrays["__meta__"]).decode().replace('"version": 1', f'"version": {huge}')
    arrays["__meta__"] = np.frombuffer(text.encode(), dtype=np.uint8)
    np.savez(cli.path / "huge.npz", **arrays)
    line = assert_one_line_error(cli("evaluate", "huge.npz"), 2, "huge.npz", "400 digits")
    assert len(line) < 200
    (cli.path / "net.json").write_text(
        '{"layers": [1, 1], "weights": [[[' + huge + ']]], "biases": [[0]]}')
    assert_one_line_error(cli("explain", "--net", "net.json", "--input", "1", "--target", "1"),
                          2, "net.json", "400 digits")
    (cli.path / "deep.json").write_text('{"layers": [1, 1], "weights": ' + "[" * 500 + "]" * 500
                                        + ', "biases": [[0]]}')
    assert_one_line_error(cli("explain", "--net", "deep.json", "--input", "1", "--target", "1"),
                          2, "deep.json", "nested too deeply")


def test_a_huge_value_is_quoted_short_in_the_error_line(cli):
    """A 3 MB cell, a 20 000-character flag, a long unknown command: one short line each."""
    (cli.path / "big.csv").write_text("1,2,0\n3," + "x" * 3_000_000 + ",1\n")
    line = assert_one_line_error(cli("train", "--data", "big.csv", "--epochs", "1"), 2,
                                 "big.csv:2:2", "(3000000 characters)")
    assert len(line) < 200
    line = assert_one_line_error(cli("train", "--epochs", "9x" * 10_000), 2, "--epochs",
                                 "(20000 characters)")
    assert len(line) < 250
    line = assert_one_line_error(cli("trian" + "n" * 5_000), 2, "unknown command")
    assert len(line) < 250
    (cli.path / "net.json").write_text('{"layers": [1, 1], "weights": [[["' + "w" * 100_000
                                       + '"]]], "biases": [[0]]}')
    line = assert_one_line_error(cli("explain", "--net", "net.json", "--input", "1",
                                     "--target", "1"), 2, "net.json", "(100000 characters)")
    assert len(line) < 200
