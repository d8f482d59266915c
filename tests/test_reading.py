"""Reads bounded as the bytes arrive (pipes, /dev/zero), JSON bounded as it is parsed."""

import json
import os
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.errors import InputError
from chainrule.reading import (
    json_depth,
    loads_json,
    open_binary,
    read_bytes,
    read_json,
    text_head,
)
from tests.cli.conftest import assert_one_line_error, run_cli

needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")


def endless_fifo(path, chunk):
    """A named pipe at ``path`` whose writer sends ``chunk`` until the reader goes away."""
    os.mkfifo(path)

    def write():
        try:
            with open(path, "wb") as f:
                while True:
                    f.write(chunk)
        except (BrokenPipeError, OSError):
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer


def fifo_of(path, data):
    """A named pipe at ``path`` that delivers ``data`` once, then ends."""
    os.mkfifo(path)

    def write():
        with open(path, "wb") as f:
            f.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer


@needs_dev_zero
def test_dev_zero_stops_at_the_limit():
    with pytest.raises(InputError, match="/dev/zero: more than the 5000000-byte limit"):
        read_bytes("/dev/zero", 5_000_000)
    with pytest.raises(InputError, match="/dev/zero: not a text file"):
        read_json("/dev/zero")            # refused at its first bytes, not after 64 MB
    with pytest.raises(InputError, match="/dev/zero: more than the 3000000-byte limit"):
        open_binary("/dev/zero", 3_000_000)


@needs_fifo
def test_an_endless_pipe_stops_at_the_limit(tmp_path):
    writer = endless_fifo(tmp_path / "data.csv", b"1,2,0\n" * 1000)
    with pytest.raises(InputError, match=r"data\.csv: more than the 2000000-byte limit"):
        read_bytes(tmp_path / "data.csv", 2_000_000, text_head("data.csv"))
    writer.join(timeout=10)
    assert not writer.is_alive()          # the writer saw the pipe close


@needs_fifo
def test_a_pipe_that_ends_is_read_whole(tmp_path):
    """Bounded is not refused: a model sent through a pipe loads as from a file."""
    net = cr.nn.Network([3, 4, 2], seed=0)
    cr.nn.save(net, tmp_path / "m.npz")
    fifo_of(tmp_path / "pipe.npz", (tmp_path / "m.npz").read_bytes())
    loaded = cr.nn.load(tmp_path / "pipe.npz")
    assert np.array_equal(loaded.to_vector(), net.to_vector())
    fifo_of(tmp_path / "big", b"x" * 3_000_001)
    with pytest.raises(InputError, match="more than the 3000000-byte limit"):
        read_bytes(tmp_path / "big", 3_000_000)


@needs_dev_zero
@pytest.mark.parametrize("argv", [
    ["evaluate", "/dev/zero"],
    ["train", "--resume", "/dev/zero"],
    ["explain", "--net", "/dev/zero", "--input", "1", "--target", "1"],
])
def test_the_cli_on_dev_zero_ends_at_once_with_exit_2(tmp_path, argv):
    done = run_cli(*argv, cwd=tmp_path, timeout=60)
    assert_one_line_error(done, 2, "/dev/zero")


@needs_fifo
def test_the_cli_on_an_endless_csv_pipe_exits_2(tmp_path):
    endless_fifo(tmp_path / "zeros.csv", bytes(1 << 16))
    done = run_cli("train", "--data", "zeros.csv", "--epochs", "1", cwd=tmp_path, timeout=60)
    assert_one_line_error(done, 2, "zeros.csv", "not a text file")


# ----------------------------------------------------------------- JSON
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**39, 10**39)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=3),
    max_leaves=20)


def depth(value):
    if isinstance(value, list | dict):
        items = value.values() if isinstance(value, dict) else value
        return 1 + max((depth(v) for v in items), default=0)
    return 0


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_bounded_json_reads_what_json_reads(value):
    text = json.dumps(value)
    assert json_depth(text) == depth(value)
    assert loads_json(text, "x") == json.loads(text)


@pytest.mark.parametrize(("text", "named"), [
    ("[" + "9" * 41 + "]", "has 41 digits"),
    ('{"a": -1e309}', "'-1e309' is out of range"),
    ('{"a": Infinity}', "got Infinity"),
    ("[" * 65 + "]" * 65, "nested too deeply (65 levels; at most 64"),
    ('{"a": ', "invalid JSON at line 1, column 7"),
])
def test_bounded_json_refuses_and_names_the_source(text, named):
    with pytest.raises(InputError) as caught:
        loads_json(text, "net.json")
    assert str(caught.value).startswith("net.json: ") and named in str(caught.value)


def test_a_huge_integer_is_quoted_short():
    with pytest.raises(InputError) as caught:
        loads_json("[" + "7" * 100_000 + "]", "m.npz")
    assert len(str(caught.value)) < 160 and "100000 digits" in str(caught.value)


# ----------------------------------------------------------------- quoting
@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300) | st.lists(st.integers(), max_size=80))
def test_quoted_is_repr_when_short_and_bounded_when_long(value):
    from chainrule.errors import QUOTE_LIMIT, quoted

    text = quoted(value)
    length = len(value) if isinstance(value, str | bytes) else len(repr(value))
    if length <= QUOTE_LIMIT:
        assert text == repr(value)
    else:
        assert len(text) <= QUOTE_LIMIT * 10 + 30      # repr of 60 characters (\U0001f600: 10)
        unit = "bytes" if isinstance(value, bytes) else "characters"
        assert text.endswith(f"… ({length} {unit})")
        assert text.startswith(repr(value[:QUOTE_LIMIT]) if isinstance(value, str | bytes)
                               else repr(value)[:QUOTE_LIMIT])


def test_a_long_name_in_a_model_file_is_quoted_short(tmp_path):
    path = tmp_path / "m.npz"
    cr.nn.save(cr.nn.Network([2, 2], seed=0), path)
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(bytes(arrays["__meta__"]))
    meta["config"]["activation"] = "swish" * 20_000
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(InputError) as caught:
        cr.nn.load(path)
    assert "(100000 characters)" in str(caught.value) and len(str(caught.value)) < 300
