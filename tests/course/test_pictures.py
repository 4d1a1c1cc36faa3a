"""The lessons' pictures (grader/course/pictures.py) render headless: each function writes a
non-empty PNG without a display, a lesson's `__main__` saves its pictures, and grading never
needs the module."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

DRAW_ALL = textwrap.dedent("""
    import numpy as np
    from grader.course import pictures

    z = np.linspace(-5, 5, 101)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
    labels = np.arange(10) % 10
    pictures.activation_curves(z, {"sigmoid": 1 / (1 + np.exp(-z)), "relu": np.maximum(z, 0)})
    pictures.digit_grid(images, labels, name="digits")
    pictures.digit_grid(images, labels, (labels + (labels % 3 == 0)) % 10, name="predictions")
    pictures.training_curves({"loss": [0.3, 0.1, 0.05], "accuracy": [0.9, 0.96, 0.98]})
    pictures.loss_curve(np.geomspace(1.0, 0.05, 50))
    points = rng.normal(size=(40, 2)).astype(np.float32)
    pictures.decision_boundary(lambda grid: (grid[:, 0] > 0).astype(int), points, points[:, 0] > 0, steps=30)
    import matplotlib
    print("backend", matplotlib.get_backend())
""")
NAMES = ("activations", "digits", "predictions", "training_curves", "loss_curve", "decision_boundary")


def headless_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def assert_png(path: Path) -> None:
    assert path.is_file(), path
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 2000, (path, len(data))


def test_every_picture_is_a_png_without_a_display(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", DRAW_ALL], cwd=tmp_path, env=headless_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "backend agg" in done.stdout.lower(), done.stdout
    for name in NAMES:
        assert_png(tmp_path / "pictures" / f"{name}.png")
        assert f"picture saved: {tmp_path / 'pictures' / name}.png" in done.stdout


def test_an_unwritable_working_folder_falls_back_to_a_temporary_one(tmp_path: Path) -> None:
    blocker = tmp_path / "pictures"
    blocker.write_text("a file where the folder would go")
    done = subprocess.run([sys.executable, "-c", DRAW_ALL], cwd=tmp_path, env=headless_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    saved = [Path(line.split(": ", 1)[1]) for line in done.stdout.splitlines()
             if line.startswith("picture saved: ")]
    assert len(saved) == len(NAMES)
    for path in saved:
        assert not path.is_relative_to(tmp_path)
        assert_png(path)


def test_an_explicit_folder_gets_the_png_in_this_process(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from grader.course import pictures

    path = pictures.training_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]},
                                    folder=tmp_path / "out")
    assert path == tmp_path / "out" / "training_curves.png"
    assert_png(path)
    path = pictures.digit_grid(np.zeros((3, 28, 28), np.uint8), [1, 2, 3], [1, 5, 3], columns=2, folder=tmp_path)
    assert path is not None
    assert_png(path)


def test_the_ex03_lesson_draws_its_curves_when_run_headless(tmp_path: Path) -> None:
    env = headless_env()
    env.pop("PYTHONPATH")  # the lesson finds the course package itself, from a clone
    done = subprocess.run([sys.executable, str(ROOT / "solutions" / "ex03_activations.py")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "tanh at -100, -3, 0, 3, 100: [-1.0, -0.9951, 0.0, 0.9951, 1.0]" in done.stdout, done.stdout
    assert_png(tmp_path / "pictures" / "activations.png")


def test_grading_never_needs_the_pictures() -> None:
    """Only `__main__` blocks of the lessons import the module, and nothing in grader/ but itself."""
    for folder in ("exercises", "solutions"):
        for path in sorted((ROOT / folder).glob("ex*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.If):
                    continue  # the `if __name__ == "__main__":` block
                assert "pictures" not in ast.dump(node), f"{path.name}: pictures outside __main__"
    for path in (ROOT / "grader").rglob("*.py"):
        if path.name != "pictures.py":
            assert "pictures" not in path.read_text(encoding="utf-8").replace("pictures.py", ""), path
