"""grader.course.mnist on the real MNIST files, corrupt copies and a real local HTTP server."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.course import mnist as datasets
from grader.course.mnist import MNIST_FILES, DatasetError, load_mnist, mnist_dir, parse_idx

ROOT = Path(__file__).resolve().parents[2]
REAL_DIR = Path(os.environ.get("MNIST_DIR") or ROOT.parent / "shared" / "data" / "mnist")
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

needs_real_mnist = pytest.mark.skipif(
    not all((REAL_DIR / name).is_file() for name in MNIST_FILES),
    reason=f"the four official MNIST files are not in {REAL_DIR} (set MNIST_DIR to them)",
)


@pytest.fixture
def real_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MNIST_DIR", str(REAL_DIR))
    return REAL_DIR


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No MNIST_DIR, an empty cache in tmp_path, tensorflow-datasets off: only downloads."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("GRADER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GRADER_MNIST_TFDS", "0")
    return tmp_path / "cache" / "mnist"


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _BreaksMidway(http.server.BaseHTTPRequestHandler):
    """Promises the whole file, sends 1000 bytes, then hangs up."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(MNIST_FILES["t10k-images-idx3-ubyte.gz"][0]))
        self.end_headers()
        self.wfile.write(b"\x1f\x8b" + b"\0" * 998)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serve(handler: type | functools.partial[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mnist/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real HTTP server on 127.0.0.1 serving tmp_path/www/mnist/; yields that folder."""
    www = tmp_path / "www"
    (www / "mnist").mkdir(parents=True)
    with _serve(functools.partial(_QuietFiles, directory=str(www))) as url:
        monkeypatch.setenv("GRADER_MNIST_MIRRORS", url)
        yield www / "mnist"


def _refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ## Loading the real files


@needs_real_mnist
def test_train_split_shapes_dtypes_and_class_counts(real_dir: Path) -> None:
    images, labels = load_mnist("train")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels is not None and labels.shape == (60000,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == TRAIN_COUNTS
    assert images.max() == 255 and images.min() == 0


@needs_real_mnist
def test_test_split_and_labels_false(real_dir: Path) -> None:
    images, labels = load_mnist("test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels is not None and np.bincount(labels, minlength=10).tolist() == TEST_COUNTS
    only_images, none = load_mnist("test", labels=False)
    assert none is None and np.array_equal(only_images, images)
    assert not images.flags.writeable, "cached arrays must be read-only"
    assert mnist_dir() == real_dir


def test_unknown_split_is_a_dataset_error() -> None:
    with pytest.raises(DatasetError, match="'validation'"):
        load_mnist("validation")


def test_import_stays_light() -> None:
    code = "import sys, grader.course.mnist; assert 'tensorflow' not in sys.modules, 'TF imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


# ## Corrupt, truncated and wrong files


@needs_real_mnist
@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupt_copy_names_file_and_checksums(
    damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    (tmp_path / "t10k-images-idx3-ubyte.gz").symlink_to(REAL_DIR / "t10k-images-idx3-ubyte.gz")
    bad = tmp_path / name
    data = bytearray((REAL_DIR / name).read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[len(data) // 2 :]
    bad.write_bytes(bytes(data))
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    with pytest.raises(DatasetError) as info:
        load_mnist("test")
    message = str(info.value)
    assert str(bad) in message
    assert MNIST_FILES[name][1] in message
    assert datasets.sha256_of(bad) in message
    assert "fresh copy" in message


@needs_real_mnist
def test_corrupt_file_in_cache_says_delete_it(offline_env: Path) -> None:
    offline_env.mkdir(parents=True)
    name = "t10k-images-idx3-ubyte.gz"
    (offline_env / name).write_bytes(b"not mnist")
    with pytest.raises(DatasetError, match="delete") as info:
        load_mnist("test")
    assert MNIST_FILES[name][1] in str(info.value) and name in str(info.value)


def _idx(magic: int, dims: tuple[int, ...], payload: int) -> bytes:
    header = np.array([magic, *dims], dtype=">u4").tobytes()
    return header + bytes(payload)


@pytest.mark.parametrize(
    ("data", "magic", "words"),
    [
        (_idx(0x801, (3, 28, 28), 3 * 784), 0x803, "magic number 0x801 instead of 0x803"),
        (_idx(0x803, (3, 28, 28), 3 * 784 - 1), 0x803, "truncated"),
        (_idx(0x803, (3, 27, 28), 3 * 27 * 28), 0x803, "27x28"),
        (_idx(0x801, (4,), 4), 0x801, "4 items, expected 3"),
        (b"\0\0\x08", 0x801, "too short"),
    ],
)
def test_bad_idx_headers(data: bytes, magic: int, words: str) -> None:
    with pytest.raises(DatasetError, match=words):
        parse_idx(data, magic=magic, name="x.gz", count=3)


def test_good_idx_parses() -> None:
    labels = parse_idx(_idx(0x801, (3,), 0) + bytes([7, 0, 9]), magic=0x801, name="l", count=3)
    assert labels.tolist() == [7, 0, 9] and labels.dtype == np.uint8
    images = parse_idx(_idx(0x803, (2, 28, 28), 2 * 784), magic=0x803, name="i")
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8


# ## Downloading into the cache from a real local server


@needs_real_mnist
def test_download_fills_an_empty_cache(offline_env: Path, mirror: Path) -> None:
    for name in MNIST_FILES:
        shutil.copyfile(REAL_DIR / name, mirror / name)
    assert mnist_dir() == offline_env
    assert _leftovers(offline_env) == sorted(MNIST_FILES)
    for name, (size, sha) in MNIST_FILES.items():
        assert (offline_env / name).stat().st_size == size
        assert datasets.sha256_of(offline_env / name) == sha
    labels = load_mnist("test")[1]
    assert labels is not None and np.bincount(labels).tolist() == TEST_COUNTS
    for name in MNIST_FILES:  # the cache is used from now on: the server may go
        (mirror / name).unlink()
    assert load_mnist("train")[0].shape == (60000, 28, 28)


@needs_real_mnist
def test_wrong_file_from_server_leaves_nothing(offline_env: Path, mirror: Path) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    shutil.copyfile(REAL_DIR / "t10k-images-idx3-ubyte.gz", mirror / "t10k-images-idx3-ubyte.gz")
    shutil.copyfile(REAL_DIR / "train-labels-idx1-ubyte.gz", mirror / name)  # wrong file
    with pytest.raises(DatasetError) as info:
        load_mnist("test")
    message = str(info.value)
    assert name in message and MNIST_FILES[name][1] in message
    assert datasets.sha256_of(mirror / name) in message
    assert _leftovers(offline_env) == ["t10k-images-idx3-ubyte.gz"]


def test_server_breaking_midway_leaves_nothing(offline_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _serve(_BreaksMidway) as url:
        monkeypatch.setenv("GRADER_MNIST_MIRRORS", url)
        with pytest.raises(DatasetError, match="could not be downloaded") as info:
            load_mnist("test")
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)
    assert _leftovers(offline_env) == []


def test_refused_connection_gives_the_offline_message(
    offline_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _refused_url()
    monkeypatch.setenv("GRADER_MNIST_MIRRORS", url)
    with pytest.raises(DatasetError) as info:
        load_mnist("train")
    message = str(info.value)
    for words in (
        "offline",
        "MNIST_DIR",
        "train-images-idx3-ubyte.gz",
        url,
        str(offline_env),
        "connect to the internet once",
    ):
        assert words in message, words
    assert not offline_env.exists(), "no folder is created while offline"


def test_offline_default_chain_tries_tfds_without_downloading(tmp_path: Path) -> None:
    """The whole chain, tensorflow-datasets included, in a child (TF stays out of pytest)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MNIST_DIR", "GRADER_MNIST_TFDS")}
    env.update(
        GRADER_CACHE=str(tmp_path / "cache"),
        GRADER_MNIST_MIRRORS=_refused_url(),
        TFDS_DATA_DIR=str(tmp_path / "tfds"),
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    code = (
        "from grader.course.mnist import load_mnist, DatasetError\n"
        "try:\n    load_mnist('test')\nexcept DatasetError as e:\n    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        timeout=120,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "tensorflow-datasets:" in done.stdout, done.stdout + done.stderr
    assert "could not find data" in done.stdout and "MNIST_DIR" in done.stdout
    assert _leftovers(tmp_path / "cache" / "mnist") == []
