"""The course's exercises: ids, file names and titles, in teaching order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Exercise", "EXERCISES", "find_exercise", "UnknownExercise", "PROJECT_ROOT"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Exercise:
    """One lesson file: `ex03` is `ex03_activations.py` (or `.ipynb`)."""

    id: str
    module: str
    title: str
    needs_tensorflow_in_parent: bool = False  # its hidden checks run tf.GradientTape here

    @property
    def filename(self) -> str:
        return f"{self.module}.py"


EXERCISES: tuple[Exercise, ...] = (
    Exercise("ex01", "ex01_tensors", "Tensors: rank, shape and dtype"),
    Exercise("ex02", "ex02_neuron", "One neuron: f(sum_i w_i x_i + b)"),
    Exercise("ex03", "ex03_activations", "Activation functions"),
    Exercise("ex04", "ex04_layers", "Layers in matrix form"),
    Exercise("ex05", "ex05_stable_softmax", "Numerically stable softmax and cross-entropy"),
    Exercise("ex06", "ex06_backprop", "Backpropagation by hand", needs_tensorflow_in_parent=True),
    Exercise("ex07", "ex07_gradient_descent", "Gradient descent"),
    Exercise("ex08", "ex08_mnist_mlp", "A Keras MLP on MNIST"),
)


class UnknownExercise(ValueError):
    """The name given on the command line is not one of the course's exercises."""


def find_exercise(name: str) -> Exercise:
    """Accept `ex03`, `3`, `ex03_activations` or `ex03_activations.py`."""
    key = name.strip().lower()
    for suffix in (".py", ".ipynb"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    if key.isdigit():
        key = f"ex{int(key):02d}"
    for exercise in EXERCISES:
        if key in (exercise.id, exercise.module):
            return exercise
    known = ", ".join(e.id for e in EXERCISES)
    raise UnknownExercise(f"unknown exercise {name!r}; the course has {known}")
