"""Pictures for the lessons, drawn with matplotlib: used only by their `__main__` blocks.

Every function draws one figure from plain numbers (numpy arrays, lists, a History's dict)
and hands it to `finish`: in Jupyter (or any interactive backend) the figure is shown; without
a display it is saved as a PNG, in `folder` (default: ./pictures, or a temporary folder when
the working directory is not writable) and the path is printed. Grading never imports this
module: the grader never runs a lesson's `__main__` block.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "activation_curves",
    "decision_boundary",
    "digit_grid",
    "finish",
    "loss_curve",
    "training_curves",
]

_NON_INTERACTIVE = {"agg", "pdf", "ps", "svg", "cairo", "pgf", "template"}


def _pyplot() -> Any:
    """matplotlib.pyplot, on the Agg backend when there is no display and no Jupyter kernel."""
    import matplotlib

    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform in
                    ("darwin", "win32"))
    if headless and "ipykernel" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _folder(folder: str | Path | None) -> Path:
    for candidate in ([Path(folder)] if folder is not None else [Path.cwd() / "pictures"]):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            if os.access(candidate, os.W_OK):
                return candidate
        except OSError:
            pass
    return Path(tempfile.mkdtemp(prefix="lesson-pictures-"))


def finish(figure: Any, name: str, folder: str | Path | None = None) -> Path | None:
    """Show `figure` where there is a display (Jupyter); otherwise save it as NAME.png and say where."""
    import matplotlib

    plt = _pyplot()
    figure.tight_layout()
    if folder is None and matplotlib.get_backend().lower() not in _NON_INTERACTIVE:
        plt.show()
        return None
    path = _folder(folder) / f"{name}.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"picture saved: {path}")
    return path


def activation_curves(z: Sequence[float] | np.ndarray, curves: Mapping[str, Any],
                      folder: str | Path | None = None) -> Path | None:
    """Each activation y = f(z) against z, one panel each (ex03)."""
    plt = _pyplot()
    z = np.asarray(z, dtype=np.float64)
    figure, axes = plt.subplots(1, len(curves), figsize=(3.2 * len(curves), 3.0), squeeze=False)
    for axis, (name, values) in zip(axes[0], curves.items()):
        axis.plot(z, np.asarray(values, dtype=np.float64), linewidth=2)
        axis.axhline(0.0, color="grey", linewidth=0.5)
        axis.axvline(0.0, color="grey", linewidth=0.5)
        axis.set_title(name)
        axis.set_xlabel("z")
    return finish(figure, "activations", folder)


def digit_grid(images: np.ndarray, labels: Sequence[int] | np.ndarray,
               predictions: Sequence[int] | np.ndarray | None = None, columns: int = 8,
               name: str = "digits", folder: str | Path | None = None) -> Path | None:
    """MNIST images with their labels; with `predictions`, wrong ones are titled in red (ex08)."""
    plt = _pyplot()
    images = np.asarray(images)
    rows = max(1, -(-len(images) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= len(images):
            continue
        axis.imshow(images[index], cmap="gray_r")
        label = int(labels[index])
        if predictions is None:
            axis.set_title(f"label {label}", fontsize=9)
        else:
            guess = int(predictions[index])
            axis.set_title(f"{guess} (is {label})", fontsize=9, color="black" if guess == label else "red")
    return finish(figure, name, folder)


def training_curves(history: Mapping[str, Sequence[float]], folder: str | Path | None = None) -> Path | None:
    """Loss and accuracy per epoch from a Keras History's `.history` dict (ex08)."""
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(8.0, 3.2))
    for key, values in history.items():
        epochs = np.arange(1, len(values) + 1)
        axis = left if "loss" in key else right
        axis.plot(epochs, np.asarray(values, dtype=np.float64), marker="o", label=key)
    for axis, title in ((left, "loss (lower is better)"), (right, "accuracy (higher is better)")):
        axis.set_title(title)
        axis.set_xlabel("epoch")
        if axis.lines:
            axis.legend()
    return finish(figure, "training_curves", folder)


def loss_curve(losses: Sequence[float] | np.ndarray, folder: str | Path | None = None) -> Path | None:
    """The training loss after every gradient step (ex07)."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(5.0, 3.2))
    axis.plot(np.asarray(losses, dtype=np.float64))
    axis.set_xlabel("gradient step")
    axis.set_ylabel("loss")
    axis.set_title("training loss")
    return finish(figure, "loss_curve", folder)


def decision_boundary(classify: Callable[[np.ndarray], Any], points: np.ndarray,
                      labels: Sequence[int] | np.ndarray, steps: int = 200,
                      folder: str | Path | None = None) -> Path | None:
    """The class `classify` gives every spot of the plane, under the training points (ex07).

    `classify` takes an (N, 2) float32 array of points and returns N class numbers.
    """
    plt = _pyplot()
    points = np.asarray(points, dtype=np.float64)
    low, high = points.min(axis=0) - 0.2, points.max(axis=0) + 0.2
    xs, ys = np.meshgrid(np.linspace(low[0], high[0], steps), np.linspace(low[1], high[1], steps))
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    classes = np.asarray(classify(grid)).reshape(xs.shape)
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.contourf(xs, ys, classes, alpha=0.3, cmap="coolwarm")
    axis.scatter(points[:, 0], points[:, 1], c=np.asarray(labels), cmap="coolwarm", s=8, edgecolors="k",
                 linewidths=0.2)
    axis.set_title("decision boundary")
    axis.set_aspect("equal")
    return finish(figure, "decision_boundary", folder)
