"""The ex08 reference MLP: its shape (fast), 98 % on real MNIST (slow), and the JAX backend."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "ex08_mnist_mlp.py"
MNIST_DIR = Path(os.environ.get("MNIST_DIR") or ROOT.parent / "shared" / "data" / "mnist")
needs_real_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"the official MNIST files are not in {MNIST_DIR} (set MNIST_DIR to them)",
)


@pytest.fixture(scope="module")
def solution() -> ModuleType:
    """solutions/ex08_mnist_mlp.py, imported under its own name from solutions/ on sys.path."""
    sys.path.insert(0, str(SOLUTION.parent))
    try:
        spec = importlib.util.spec_from_file_location("ex08_mnist_mlp", SOLUTION)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SOLUTION.parent))
    return module


def test_build_model_is_an_mlp_on_raw_uint8(solution: ModuleType) -> None:
    import keras

    model = solution.build_model()
    assert isinstance(model, keras.Model)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert not [k for k in kinds if "Conv" in k or "Pool" in k], kinds
    assert set(kinds) <= {"InputLayer", "Rescaling", "Flatten", "Dense", "Dropout"}, kinds
    assert "Rescaling" in kinds and "Dense" in kinds
    rescaling = next(layer for layer in model.layers if type(layer).__name__ == "Rescaling")
    assert float(rescaling.scale) == pytest.approx(1 / 255)
    assert tuple(model.input_shape) == (None, 28, 28)
    assert tuple(model.output_shape) == (None, 10)
    images = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    scores = np.asarray(model.predict(images, verbose=0))
    assert scores.shape == (5, 10) and np.all(np.isfinite(scores))


def test_compile_and_train_contract(solution: ModuleType) -> None:
    import keras

    keras.utils.set_random_seed(0)
    model = solution.build_model()
    solution.compile_model(model)
    assert model.optimizer is not None and model.loss is not None
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, size=(300, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=(300,), dtype=np.uint8)
    history = solution.train(model, x, y, 2, 64)
    assert isinstance(history, keras.callbacks.History)
    assert len(history.history["loss"]) == 2 and "accuracy" in history.history


@pytest.mark.slow
@needs_real_mnist
def test_reference_reaches_98_percent_on_the_test_set(
    solution: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras

    from grader.course.mnist import load_mnist

    monkeypatch.setenv("MNIST_DIR", str(MNIST_DIR))
    x, y = load_mnist("train")
    x_test, y_test = load_mnist("test")
    keras.utils.set_random_seed(0)
    model = solution.build_model()
    solution.compile_model(model)
    start = time.perf_counter()
    solution.train(model, x, y, 10, 128)
    seconds = time.perf_counter() - start
    predicted = np.argmax(model.predict(x_test, batch_size=1000, verbose=0), axis=-1)
    accuracy = float(np.mean(predicted == y_test))
    print(f"ex08 reference: 10 epochs, batch 128, {seconds:.1f} s, test accuracy {accuracy:.4f}")
    assert accuracy >= 0.98


_JAX_RUN = """
import json, sys
import numpy as np
import keras
from grader.course.mnist import load_mnist
sys.path.insert(0, "solutions")
import ex08_mnist_mlp as ex
x, y = load_mnist("train")
x_test, y_test = load_mnist("test")
keras.utils.set_random_seed(0)
model = ex.build_model()
ex.compile_model(model)
ex.train(model, x[:10000], y[:10000], 1, 32)
predicted = np.argmax(model.predict(x_test, batch_size=1000, verbose=0), axis=-1)
print(json.dumps({"backend": keras.backend.backend(),
                  "accuracy": float(np.mean(predicted == y_test))}))
"""


@pytest.mark.jax
@needs_real_mnist
def test_reference_runs_on_the_jax_backend() -> None:
    pytest.importorskip("jax")
    env = dict(os.environ, KERAS_BACKEND="jax", MNIST_DIR=str(MNIST_DIR), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", _JAX_RUN],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax"
    assert result["accuracy"] > 0.90, result
