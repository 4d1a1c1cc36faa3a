"""MNIST as uint8 numpy arrays, from the first source that works.

1. ``$MNIST_DIR``: a folder holding the four official IDX ``.gz`` files;
2. the cache (``$GRADER_CACHE/mnist``, default ``~/.cache/dl-course-grader/mnist``),
   filled once from the official mirrors (``$GRADER_MNIST_MIRRORS`` overrides them,
   comma-separated base URLs) with sha256 verification and an atomic rename;
3. tensorflow-datasets (imported only when 1 and 2 fail; ``GRADER_MNIST_TFDS=0`` turns it off).

Every file is checked against its published sha256 (once per process), and every problem
is a ``DatasetError`` whose message tells a beginner what to do. Only numpy and gzip are
imported here, so the grader's parent process stays light. The ex07 toy data lives in
``grader/course/toydata.py``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULT_MIRRORS",
    "MNIST_FILES",
    "DatasetError",
    "cache_dir",
    "load_mnist",
    "mirrors",
    "mnist_dir",
    "parse_idx",
    "sha256_of",
]

# The published files (name, bytes, sha256), as listed in the MNIST README.
_PUBLISHED = """
train-images-idx3-ubyte.gz 9912422 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
train-labels-idx1-ubyte.gz 28881 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
t10k-images-idx3-ubyte.gz 1648877 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
t10k-labels-idx1-ubyte.gz 4542 f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
"""
#: file name -> (size in bytes, sha256).
MNIST_FILES: dict[str, tuple[int, str]] = {
    name: (int(size), sha) for name, size, sha in map(str.split, _PUBLISHED.strip().splitlines())
}
DEFAULT_MIRRORS: tuple[str, ...] = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000),
}
_IMAGES_MAGIC, _LABELS_MAGIC = 0x803, 0x801
_TIMEOUT_S = 30.0
# (path, size, mtime_ns, inode) -> sha256, so each file is hashed once per process.
_VERIFIED: dict[tuple[str, int, int, int], str] = {}


class DatasetError(Exception):
    """The MNIST data is missing, corrupt or cannot be downloaded (message says what to do)."""


class _Offline(Exception):
    """A mirror could not be reached (network error, HTTP error): try the next source."""


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _bad_file_message(path: Path, actual: str, *, where: str) -> str:
    size, expected = MNIST_FILES[path.name]
    return (
        f"The MNIST file {path} is corrupt, truncated or not the official file.\n"
        f"  expected sha256: {expected} ({size} bytes)\n"
        f"  actual sha256:   {actual} ({path.stat().st_size} bytes)\n"
        f"What to do: {where}"
    )


def _verify(path: Path, *, where: str) -> None:
    """Raise DatasetError unless `path` has the published sha256 (cached per process)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    expected = MNIST_FILES[path.name][1]
    actual = _VERIFIED.get(key) or sha256_of(path)
    if actual != expected:
        raise DatasetError(_bad_file_message(path, actual, where=where))
    _VERIFIED[key] = actual


def cache_dir() -> Path:
    """The download cache: ``$GRADER_CACHE/mnist``, default ``~/.cache/dl-course-grader/mnist``."""
    root = os.environ.get("GRADER_CACHE") or Path.home() / ".cache" / "dl-course-grader"
    return Path(root).expanduser() / "mnist"


def mirrors() -> list[str]:
    """Base URLs to download from: ``$GRADER_MNIST_MIRRORS`` (comma-separated) or the defaults."""
    raw = os.environ.get("GRADER_MNIST_MIRRORS", "")
    urls = [u.strip() for u in raw.split(",") if u.strip()] or list(DEFAULT_MIRRORS)
    for url in urls:
        if not url.startswith(("https://", "http://")):
            raise DatasetError(f"GRADER_MNIST_MIRRORS may only list http(s) URLs, not {url!r}.")
    return [u if u.endswith("/") else u + "/" for u in urls]


def _download(name: str, dest_dir: Path) -> Path:
    """Download `name` into `dest_dir` atomically; raise _Offline or DatasetError.

    The bytes go to a temporary file in the same folder, are checked (size and sha256),
    fsynced and only then renamed to the final name, so a broken download or a wrong file
    never leaves anything behind.
    """
    size, expected = MNIST_FILES[name]
    failures: list[str] = []
    bad_checksum: str | None = None
    for base in mirrors():
        url = base + name
        print(f"Downloading {url} into {dest_dir} ...", file=sys.stderr, flush=True)
        tmp: Path | None = None
        try:
            digest, received = hashlib.sha256(), 0
            with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
                dest_dir.mkdir(parents=True, exist_ok=True)  # only once a mirror answers
                fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=f".{name}.", suffix=".part")
                tmp = Path(tmp_name)
                with os.fdopen(fd, "wb") as out:
                    while received <= size:
                        chunk = response.read(1 << 16)
                        if not chunk:
                            break
                        received += len(chunk)
                        digest.update(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            actual = digest.hexdigest()
            if received < size:  # the connection broke: a network problem, not a wrong file
                failures.append(f"{url}: the download stopped after {received} of {size} bytes")
                continue
            if actual != expected:
                bad_checksum = (
                    f"The file downloaded from {url} is not the official MNIST file {name}.\n"
                    f"  expected sha256: {expected} ({size} bytes)\n"
                    f"  actual sha256:   {actual} ({received}{'+' if received > size else ''}"
                    f" bytes)\n"
                    "Nothing was saved. What to do: try again later, or download the file "
                    "yourself from another mirror and set MNIST_DIR to its folder."
                )
                failures.append(f"{url}: wrong sha256 {actual}")
                continue
            os.replace(tmp, dest_dir / name)
            _fsync_dir(dest_dir)
            return dest_dir / name
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            failures.append(f"{url}: {getattr(exc, 'reason', None) or exc}")
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
    if bad_checksum is not None:
        raise DatasetError(bad_checksum)
    raise _Offline("; ".join(failures))


def _fsync_dir(path: Path) -> None:
    """Make the rename durable (best effort: some filesystems refuse to fsync a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _locate(name: str, notes: list[str], *, download: bool = True) -> Path | None:
    """Return a verified path for one official file, or None (reasons appended to notes)."""
    env_dir = os.environ.get("MNIST_DIR")
    if env_dir:
        path = Path(env_dir).expanduser() / name
        if path.is_file():
            _verify(
                path,
                where=(
                    f"replace {path} with a fresh copy of the official file "
                    "(or unset MNIST_DIR to use the download cache)."
                ),
            )
            return path
        notes.append(f"MNIST_DIR={env_dir} has no {name}")
    else:
        notes.append("MNIST_DIR is not set")
    cached = cache_dir() / name
    if cached.is_file():
        _verify(cached, where=f"delete {cached}; it is downloaded again on the next run.")
        return cached
    if not download:
        notes.append(f"the cache {cache_dir()} has no {name}")
        return None
    try:
        return _download(name, cache_dir())
    except _Offline as exc:
        notes.append(f"could not download {name}: {exc}")
        return None
    except OSError as exc:
        notes.append(f"could not write into the cache {cache_dir()}: {exc}")
        return None


def parse_idx(data: bytes, *, magic: int, name: str, count: int | None = None) -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into a uint8 array.

    Images (magic 0x803): header of 4 big-endian int32 (magic, count, rows, cols), then
    count * rows * cols pixels, returned as (count, rows, cols). Labels (magic 0x801): header
    (magic, count), then count bytes, returned as (count,). Any mismatch is a DatasetError.
    """
    ndim = {_IMAGES_MAGIC: 3, _LABELS_MAGIC: 1}[magic]
    header_len = 4 * (1 + ndim)
    if len(data) < header_len:
        raise DatasetError(f"{name}: the file is too short to be an IDX file.")
    header = np.frombuffer(data, dtype=">u4", count=1 + ndim)
    if int(header[0]) != magic:
        raise DatasetError(
            f"{name}: bad IDX header, magic number {int(header[0]):#x} instead of {magic:#x}. "
            "This is not the right MNIST file."
        )
    dims = tuple(int(d) for d in header[1:])
    if count is not None and dims[0] != count:
        raise DatasetError(f"{name}: the header says {dims[0]} items, expected {count}.")
    if ndim == 3 and dims[1:] != (28, 28):
        raise DatasetError(f"{name}: images are {dims[1]}x{dims[2]}, expected 28x28.")
    expected_len = header_len + int(np.prod(dims))
    if len(data) != expected_len:
        raise DatasetError(
            f"{name}: {len(data)} bytes after decompression, expected {expected_len} "
            "from the header. The file is truncated or corrupt."
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(dims)
    array.flags.writeable = False
    return array


def _read(path: Path, magic: int, count: int) -> np.ndarray:
    st = path.stat()  # the stat signature is part of the cache key: a replaced file is re-read
    return _read_gz(str(path), st.st_size, st.st_mtime_ns, magic, count)


@functools.lru_cache(maxsize=8)
def _read_gz(path: str, size: int, mtime_ns: int, magic: int, count: int) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: could not decompress ({exc}). Delete it and download it again.") from exc
    return parse_idx(data, magic=magic, name=path, count=count)


@functools.lru_cache(maxsize=4)
def _load_tfds(split: str, download: bool) -> tuple[np.ndarray, np.ndarray]:
    import tensorflow_datasets as tfds  # heavy (imports TensorFlow): only as a last resort

    images, labels = tfds.as_numpy(
        tfds.load("mnist", split=split, batch_size=-1, as_supervised=True, download=download)
    )
    images = np.ascontiguousarray(images.reshape(-1, 28, 28), dtype=np.uint8)
    labels = np.ascontiguousarray(labels, dtype=np.uint8)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def _how_to_get_data(notes: list[str]) -> str:
    names = "\n".join(f"     {name}" for name in MNIST_FILES)
    urls = "\n".join(f"     {url}" for url in mirrors())
    tried = "\n".join(f"  - {note}" for note in dict.fromkeys(notes))
    return (
        "The MNIST data could not be found, and it could not be downloaded "
        "(are you offline?).\n"
        f"What was tried:\n{tried}\n"
        "How to get the data, either:\n"
        "  1. put the four official files\n"
        f"{names}\n"
        "     in a folder and set MNIST_DIR to it, e.g.  export MNIST_DIR=/path/to/mnist\n"
        "     (they can be downloaded from\n"
        f"{urls} );\n"
        "  2. or connect to the internet once and run again: the files are downloaded into\n"
        f"     {cache_dir()} and reused after that."
    )


def mnist_dir(*, download: bool = True) -> Path:
    """The folder holding the four verified official files ($MNIST_DIR, else the cache).

    Downloads missing files into the cache when `download` is true. Raises DatasetError when
    the files are neither in $MNIST_DIR nor in the cache and cannot be downloaded.
    """
    notes: list[str] = []
    paths = [_locate(name, notes, download=download) for name in MNIST_FILES]
    found = [p for p in paths if p is not None]
    if len(found) == len(MNIST_FILES) and len({p.parent for p in found}) == 1:
        return found[0].parent
    if len(found) == len(MNIST_FILES):
        raise DatasetError(
            "The four MNIST files are split between $MNIST_DIR and the cache "
            f"({sorted({str(p.parent) for p in found})}); put all four in one folder."
        )
    raise DatasetError(_how_to_get_data(notes))


def load_mnist(split: str = "train", *, labels: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Load one MNIST split as read-only uint8 arrays.

    Returns (images, labels): images has shape (N, 28, 28), values 0..255; labels has shape
    (N,), values 0..9, or is None when ``labels=False``. N is 60000 for "train" and 10000 for
    "test". Arrays are cached in the process; copy them before writing into them.
    """
    if split not in _SPLITS:
        raise DatasetError(f"Unknown MNIST split {split!r}: use 'train' or 'test'.")
    images_name, labels_name, count = _SPLITS[split]
    notes: list[str] = []
    images_path = _locate(images_name, notes)
    labels_path = _locate(labels_name, notes) if labels else None
    if images_path is not None and (labels_path is not None or not labels):
        images = _read(images_path, _IMAGES_MAGIC, count)
        return images, (_read(labels_path, _LABELS_MAGIC, count) if labels_path else None)
    if os.environ.get("GRADER_MNIST_TFDS", "1").strip().lower() in ("0", "false", "no", "off"):
        notes.append("tensorflow-datasets: turned off by GRADER_MNIST_TFDS=0")
    else:
        offline = any("could not download" in note for note in notes)
        try:
            images, label_array = _load_tfds(split, not offline)
            return images, (label_array if labels else None)
        except Exception as exc:  # tfds raises many kinds of errors; all mean "not there"
            first = (str(exc).strip().split(". ") or [""])[0] or type(exc).__name__
            notes.append(f"tensorflow-datasets: {first.splitlines()[0][:200]}")
    raise DatasetError(_how_to_get_data(notes))
