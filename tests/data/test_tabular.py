"""CSV, NPZ and NPY: values, every error with its place, hostile files, fuzzing."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chainrule.data import load_array, load_csv, load_npz
from chainrule.errors import InputError

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def write(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_csv_with_header_labels_last(tmp_path):
    X, y = load_csv(write(tmp_path, "a,b,label\n0.5,-1,2\n1e2, 3 ,0\n"))
    assert X.dtype == np.float64 and X.tolist() == [[0.5, -1.0], [100.0, 3.0]]
    assert y.dtype == np.int64 and y.tolist() == [2, 0]


def test_csv_options(tmp_path):
    path = write(tmp_path, "# comment\n1,2,3\n\n4,5,6\r\n")
    X, y = load_csv(path, label_column=0)
    assert X.tolist() == [[2, 3], [5, 6]] and y.tolist() == [1, 4]
    X, y = load_csv(path, label_column=None)
    assert X.shape == (2, 3) and y is None
    X, y = load_csv(write(tmp_path, "x,y,cls\n1,2,3\n"), label_column="cls")
    assert X.tolist() == [[1, 2]] and y.tolist() == [3]
    X, y = load_csv(write(tmp_path, '"1","2"\n"3","4"\n'))  # quoted cells: the exact parser
    assert X.tolist() == [[1], [3]] and y.tolist() == [2, 4]
    assert load_csv(write(tmp_path, "0,1,label\n3,4,1\n"), header=True)[1].tolist() == [1]
    X, y = load_csv(write(tmp_path, "1;2\n3;4\n"), delimiter=";")
    assert y.tolist() == [2, 4]


@pytest.mark.parametrize("text, message", [
    ("1,2,0\n3,abc,1\n", r"d.csv:2:2: not a number: 'abc'$"),
    ("0,1,label\n3,4,1\n", r"d.csv:1:3: not a number: 'label' \(a header line\? it is read as "
                           r"one when none of its cells is a number; in Python, "
                           r"load_csv\(\.\.\., header=True\)\)"),
    ("x,y,label\n3,z,1\n", r"d.csv:2:2: not a number: 'z'$"),
    ("a,b,c\n1,2,0\n\n# note\n3,4\n", r"d.csv:5: 2 columns, but line 2 has 3 \(ragged rows\)"),
    ("1,2,0\n1,2,0,7\n", r"d.csv:2: 4 columns, but line 1 has 3"),
    ("", r"d.csv: empty file"),
    ("\n  \n# only a comment\n", r"d.csv: empty file"),
    ("a,b,label\n", r"d.csv: a header line but no data rows"),
    ("1,2,0\n1,nan,1\n", r"d.csv:2:2: 'nan' is not a finite number"),
    ("1,2,0\n-inf,2,1\n", r"d.csv:2:1: '-inf' is not a finite number"),
    ("1,1e999,0\n", r"d.csv:1:2: '1e999' is not a finite number"),
    ("1,2,0\n3,4,2.5\n", r"d.csv:2:3: label '2.5' is not a class number"),
    ("1,2,-1\n", r"d.csv:1:3: label '-1' is not a class number"),
    ("1,9e99\n", r"d.csv:1:2: label '9e99' is not a class number"),
    ("1,,0\n", r"d.csv:1:2: empty cell"),
    ("1,2,\n", r"d.csv:1:3: empty cell"),
    ("7\n8\n", r"d.csv: only the label column, no feature columns"),
    ("# data\na,b,label\n1,2\n", r"d.csv:2: the header has 3 columns but line 3 has 2"),
    (b"1,2,0\n3,\xff,1\n", r"d.csv:2: not UTF-8 text \(byte 0xff\)"),
])
def test_csv_errors_name_the_place(tmp_path, text, message):
    with pytest.raises(InputError, match=message) as info:
        load_csv(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_csv_bad_label_column(tmp_path):
    path = write(tmp_path, "1,2\n")
    with pytest.raises(InputError, match="label column 5 does not exist"):
        load_csv(path, label_column=5)
    with pytest.raises(InputError, match="no label column named 'y'.*no header"):
        load_csv(path, label_column="y")
    with pytest.raises(InputError, match="no such file"):
        load_csv(tmp_path / "missing.csv")


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@FUZZ
@given(X=hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=finite),
       labels=st.lists(st.integers(0, 9), min_size=6, max_size=6))
def test_csv_round_trip(tmp_path, X, labels):
    y = np.array(labels[: len(X)])
    rows = [",".join([*map(repr, map(float, row)), str(label)]) for row, label in zip(X, y)]
    X_back, y_back = load_csv(write(tmp_path, "\n".join(rows) + "\n"), header=False)
    np.testing.assert_array_equal(X_back, X)
    np.testing.assert_array_equal(y_back, y)


@FUZZ
@given(label=st.floats(allow_nan=False, allow_infinity=False) | st.integers(-5, 2**40))
def test_label_cell_is_a_class_number_or_an_error(tmp_path, label):
    path = write(tmp_path, f"0.5,{label!r}\n")
    if float(label) == round(float(label)) and 0 <= label < 2**31:
        assert load_csv(path)[1].tolist() == [int(label)]
    else:
        with pytest.raises(InputError, match=r"d.csv:1:2: label .* is not a class number"):
            load_csv(path)


def check_csv_outcome(path):
    """The fuzzing property: finite float64 features and int64 labels >= 0, or InputError
    (for the last, the first and a named label column)."""
    for column in (-1, 0, "label"):
        try:
            X, y = load_csv(path, label_column=column)
        except InputError as e:
            assert "\n" not in str(e)
            continue
        assert X.dtype == np.float64 and X.ndim == 2 and X.shape[1] >= 1
        assert np.isfinite(X).all()
        assert y.dtype == np.int64 and y.shape == (len(X),) and (y >= 0).all()


@FUZZ
@given(st.text(alphabet="0123456789.,-+e \n\r\t#\"naifx", max_size=80)
       | st.lists(st.sampled_from(["label", "a", "1", "2.5", ",", "\n", "nan", "", " "]))
       .map("".join))
def test_fuzz_csv_text(tmp_path, text):
    check_csv_outcome(write(tmp_path, text))


@FUZZ
@given(st.binary(max_size=80))
def test_fuzz_csv_bytes(tmp_path, data):
    check_csv_outcome(write(tmp_path, data))


@FUZZ
@given(data=st.data())
def test_fuzz_csv_mutations(tmp_path, data):
    text = list("f1,f2,label\n0.25,1,3\n2,-4e-1,0\n7,8,1\n")
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text) - 1))
        text[i] = data.draw(st.sampled_from(list("0123456789,.\nx-e ")))
    check_csv_outcome(write(tmp_path, "".join(text)))


# ---- NPZ / NPY ------------------------------------------------------------------------------

def test_npz_round_trip(tmp_path):
    path = tmp_path / "d.npz"
    X = np.arange(6, dtype=np.uint8).reshape(3, 2)
    np.savez_compressed(path, X=X, y=np.array([1.0, 0.0, 2.0]))
    X_back, y_back = load_npz(path)
    assert X_back.dtype == np.float64 and X_back.tolist() == X.tolist()
    assert y_back.dtype == np.int64 and y_back.tolist() == [1, 0, 2]


@pytest.mark.parametrize("arrays, message", [
    ({"X": np.zeros((2, 2))}, r"no array 'y'"),
    ({"inputs": np.zeros((2, 2)), "y": np.zeros(2)}, r"no array 'X'.*found \['inputs', 'y'\]"),
    ({"X": np.zeros(4), "y": np.zeros(4)}, r"X: expected a 2-d numeric array, got shape \(4,\)"),
    ({"X": np.zeros((2, 2)), "y": np.zeros((2, 1))}, r"y: expected a 1-d numeric array"),
    ({"X": np.zeros((3, 2)), "y": np.zeros(2)}, r"X has 3 rows but y has 2 labels"),
    ({"X": np.zeros((2, 2)), "y": np.array([0, 2.5])}, r"y: row 1 has label 2.5, not an integer"),
    ({"X": np.zeros((2, 2)), "y": np.array([0, -3])}, r"y: row 1 has label -3"),
    ({"X": np.array([[0, np.inf]]), "y": np.zeros(1)}, r"X: row 0, column 1 is inf"),
    ({"X": np.array([["a"]]), "y": np.zeros(1)}, r"X: expected a 2-d numeric array"),
])
def test_npz_errors(tmp_path, arrays, message):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(InputError, match=r"d.npz: .*" + message):
        load_npz(path)


class Boom:
    """Unpickling this would create a file: proof that nothing is ever unpickled."""

    marker = None

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_hostile_pickle_in_npz_is_refused_and_never_runs(tmp_path):
    Boom.marker = tmp_path / "pwned"
    payload = np.empty(1, dtype=object)
    payload[0] = Boom()
    path = tmp_path / "hostile.npz"
    np.savez(path, X=payload, y=np.zeros(1))  # numpy pickles object arrays on save
    with pytest.raises(InputError, match="array 'X': holds Python objects"):
        load_npz(path)
    assert not Boom.marker.exists()


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_npz_header_lies_and_corruption(tmp_path):
    claimed = npy_bytes(np.zeros((2, 2))).replace(b"(2, 2)", b"(9999999999, 2)")
    path = tmp_path / "lie.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", claimed)
        z.writestr("y.npy", npy_bytes(np.zeros(2)))
    with pytest.raises(InputError, match=r"lie.npz: array 'X': header promises shape "
                                         r"\(9999999999, 2\)"):
        load_npz(path)
    good = tmp_path / "good.npz"
    np.savez(good, X=np.zeros((50, 3)), y=np.zeros(50))
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:400])
    with pytest.raises(InputError, match="cut.npz: not a readable .npz archive"):
        load_npz(cut)
    text = write(tmp_path, "X,y\n", name="text.npz")
    with pytest.raises(InputError, match="text.npz: not a readable .npz archive"):
        load_npz(text)


@FUZZ
@given(data=st.data())
def test_fuzz_npz_mutations(tmp_path, data):
    buffer = io.BytesIO()
    np.savez(buffer, X=np.arange(6.0).reshape(3, 2), y=np.array([0, 1, 1]))
    blob = bytearray(buffer.getvalue())
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    path = write(tmp_path, bytes(blob), name="f.npz")
    try:
        X, y = load_npz(path)
    except InputError:
        return
    assert X.shape == (3, 2) and np.isfinite(X).all() and y.shape == (3,)


def test_load_array(tmp_path):
    np.save(tmp_path / "rows.npy", np.arange(6, dtype=np.int32).reshape(2, 3))
    assert load_array(tmp_path / "rows.npy").tolist() == [[0, 1, 2], [3, 4, 5]]
    np.save(tmp_path / "one.npy", np.array([0.5, 1.5]))
    assert load_array(tmp_path / "one.npy").shape == (1, 2)
    assert load_array(write(tmp_path, "1,2,3\n4,5,6\n")).tolist() == [[1, 2, 3], [4, 5, 6]]
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError, match="obj.npy: holds Python objects"):
        load_array(tmp_path / "obj.npy")
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan]]))
    with pytest.raises(InputError, match=r"nan.npy: row 0, column 1 is nan"):
        load_array(tmp_path / "nan.npy")
    (tmp_path / "cut.npy").write_bytes((tmp_path / "rows.npy").read_bytes()[:-5])
    with pytest.raises(InputError, match=r"cut.npy: header promises shape \(2, 3\)"):
        load_array(tmp_path / "cut.npy")
    with pytest.raises(InputError, match=r"rows.json: expected a .csv or .npy file"):
        load_array(write(tmp_path, "[]", name="rows.json"))
