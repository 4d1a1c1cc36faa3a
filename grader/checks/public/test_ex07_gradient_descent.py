"""Exercise 7 (gradient descent): public checks.

`sgd_step` is checked on fixed values against the update rule the lesson states,
W' = W - lr * dW, with the typical mistakes named (adding the gradient, leaving out
the learning rate). `fit` trains on the two-spirals data of `grader.course.toydata`; its
accuracy is computed HERE, from the parameters it returns, never taken from the
learner's code. ex07 imports the learner's own ex06 (forward and backward), so
the ex06 file must be in the same folder.
"""

from __future__ import annotations

import ast
import weakref
from typing import Any

import numpy as np
import pytest

from grader.checks.support import (
    CheckFailure,
    ExerciseMissing,
    LearnerError,
    RECOMMENDED_FIT,
    as_array,
    show,
    two_spirals,
)

pytestmark = pytest.mark.exercise("ex07")

KEYS = ("W1", "b1", "W2", "b2")
FIT_TIMEOUT_S = 60.0
FIT_POINTS = 400
TARGET_ACCURACY = 0.95




@pytest.fixture(autouse=True)
def needs_ex06(sub: Any) -> None:
    """ex07 imports the learner's ex06: without that file nothing here can run."""
    if sub.has("ex07") and "ex06_backprop" in sub.ex07.source and not sub.has("ex06"):
        raise ExerciseMissing(
            "ex07 imports forward and backward from your ex06_backprop.py, which is not in "
            f"{sub.files.root}; put your exercise 6 file next to this one"
        )


# ---------------------------------------------------------------- sgd_step


def check_sgd_step(sub: Any, params: dict[str, np.ndarray], grads: dict[str, np.ndarray],
                   lr: float) -> None:
    """Run the learner's sgd_step and compare every key with W - lr * dW."""
    new = sub.ex07.sgd_step(params, grads, lr)
    if not isinstance(new, dict):
        raise CheckFailure("sgd_step must return a dict of updated parameters",
                           expected=f"a dict with the keys {sorted(params)}", got=show(new),
                           hint="did you forget the `return`?" if new is None else
                           "build a new dict: {key: ... for key in params}")
    if sorted(new) != sorted(params):
        raise CheckFailure("sgd_step returned a dict with the wrong keys",
                           expected=f"the keys {sorted(params)}", got=f"the keys {sorted(new)}",
                           hint="update EVERY parameter: loop over the keys of params")
    for key in params:
        got = as_array(new[key], f"sgd_step(...)[{key!r}]")
        expected = params[key].astype(np.float64) - lr * grads[key].astype(np.float64)
        if got.shape != expected.shape:
            raise CheckFailure(f"the new {key} has the wrong shape", expected=f"shape {expected.shape}",
                               got=f"shape {got.shape}",
                               hint="W - lr * dW keeps the shape of W (dW has the shape of W)")
        if got.dtype != np.float32:
            raise CheckFailure(f"the new {key} must stay float32", expected="float32",
                               got=str(got.dtype), hint="multiply by the Python float lr; "
                                                        "do not convert to float64")
        if np.allclose(got, expected, rtol=1e-5, atol=1e-6):
            continue
        problem, hint = f"the new {key} has the wrong values", "W' = W - lr * dW"
        p, g = params[key].astype(np.float64), grads[key].astype(np.float64)
        if np.allclose(got, p + lr * g, rtol=1e-5, atol=1e-6):
            problem = f"the new {key} is W + lr * dW: you ADDED the gradient"
            hint = ("the gradient points uphill, towards a larger loss; step the other way: "
                    "W - lr * dW")
        elif np.allclose(got, p - g, rtol=1e-5, atol=1e-6):
            problem = f"the new {key} is W - dW: the learning rate lr is missing"
            hint = "scale the step by the learning rate: W - lr * dW"
        elif np.allclose(got, p, rtol=1e-6, atol=1e-7):
            problem = f"the new {key} is the old {key}: nothing was updated"
            hint = "return W - lr * dW, not W"
        elif np.allclose(got, -lr * g, rtol=1e-5, atol=1e-6):
            problem = f"the new {key} is -lr * dW: the old value W is missing"
            hint = "the step changes W; it does not replace it: W - lr * dW"
        raise CheckFailure(problem, expected=show(expected.astype(np.float32)), got=show(got),
                           hint=hint)


_MUTATORS = {"update", "pop", "popitem", "clear", "setdefault", "__setitem__", "__delitem__"}
_ASSIGNS = {"assign", "assign_sub", "assign_add"}


def _changes(node: ast.AST, names: set[str]) -> str | None:
    """How `node` changes a dict bound to one of `names` in place, in words (None if it doesn't)."""
    def of_params(target: ast.AST) -> bool:
        return isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
            and target.value.id in names
    if isinstance(node, (ast.Assign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(of_params(t) for t in targets):
            return "assigns to params[key]"
    if isinstance(node, ast.Delete) and any(of_params(t) for t in node.targets):
        return "deletes params[key]"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        owner = node.func.value
        if isinstance(owner, ast.Name) and owner.id in names and node.func.attr in _MUTATORS:
            return f"calls params.{node.func.attr}(...)"
        if of_params(owner) and node.func.attr in _ASSIGNS:
            return f"calls params[key].{node.func.attr}(...)"
    return None


def require_params_unchanged(sub: Any) -> None:
    """The lesson's contract: sgd_step returns a NEW dict and leaves `params` itself unchanged.

    Arguments cross to the child as copies, so a change in place cannot be seen from here;
    the learner's sgd_step is read instead: assigning to params[key], params.update(...),
    params[key].assign_sub(...) (also through a plain alias such as `new = params`).
    """
    for function in ast.walk(ast.parse(sub.ex07.source)):
        if not (isinstance(function, ast.FunctionDef) and function.name == "sgd_step" and function.args.args):
            continue
        names = {function.args.args[0].arg}
        for node in ast.walk(function):  # plain aliases: new = params
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in names:
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in ast.walk(function):
            if (how := _changes(node, names)) is not None:
                raise CheckFailure(
                    f"sgd_step changes the params it was given (line {getattr(node, 'lineno', '?')} "
                    f"{how}); the lesson says `params` itself is left unchanged",
                    expected="a NEW dict of updated parameters, with params as it was",
                    got="params changed in place",
                    hint="build and return a new dict, one entry per key: "
                         "{key: <the updated value> for key in params}; the caller may still need "
                         "the old parameters")


def _float32(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.normal(0.0, 1.0, shape).astype(np.float32)


@pytest.mark.points(2)
def test_sgd_step(sub: Any) -> None:
    """sgd_step moves every parameter against its gradient: W - lr * dW"""
    rng = np.random.default_rng(7)
    shapes = {"W1": (2, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}
    params = {key: _float32(rng, shape) for key, shape in shapes.items()}
    grads = {key: _float32(rng, shape) for key, shape in shapes.items()}
    check_sgd_step(sub, params, grads, 0.1)
    require_params_unchanged(sub)


# ---------------------------------------------------------------- fit

_FITS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()


def run_fit(sub: Any, x: np.ndarray, y: np.ndarray, hidden: int, lr: float, steps: int,
            seed: int) -> tuple[dict[str, np.ndarray], Any]:
    """fit(...) once per learner and arguments (several checks look at the same run)."""
    runs = _FITS.setdefault(sub, {})
    key = (x.tobytes(), hidden, lr, steps, seed)
    if key not in runs:
        try:
            runs[key] = sub.ex07.fit(x, y, hidden, lr, steps, seed, timeout=FIT_TIMEOUT_S)
        except Exception as exc:  # the same answer (not attempted, error, timeout) for every check
            runs[key] = exc
    result = runs[key]
    if isinstance(result, LearnerError) and result.type_name != "NotImplementedError" \
            and any("ex06_backprop" in line for line in result.traceback[-1:]):
        raise CheckFailure(
            "fit stopped with an error inside your exercise-6 code, which fit uses",
            got=f"{result.type_name}: {result.message.splitlines()[0][:200] if result.message else ''}"
                f"\n          at {result.traceback[-1].strip()}",
            hint="make the ex06 checks pass first (grader check ex06); fit is only as right as "
                 "the forward and backward passes it calls") from None
    if isinstance(result, Exception):
        raise result
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure("fit must return two things: (params, loss_history)",
                           expected="a tuple (params, loss_history)", got=show(result),
                           hint="end fit with `return params, loss_history`")
    params, history = result
    if not isinstance(params, dict) or any(k not in params for k in KEYS):
        raise CheckFailure("the params that fit returns must be a dict with W1, b1, W2, b2",
                           expected=f"a dict with the keys {list(KEYS)}", got=show(params))
    arrays = {k: as_array(params[k], f"params[{k!r}] from fit").astype(np.float64) for k in KEYS}
    shapes = {"W1": (x.shape[1], hidden), "b1": (hidden,), "W2": (hidden, 2), "b2": (2,)}
    for k, shape in shapes.items():
        if arrays[k].shape != shape:
            hint = (f"the network is 2 -> hidden={hidden} -> 2; start from "
                    "_initial_params(2, hidden, 2, seed)")
            if arrays[k].shape[:1] == (len(x),) and arrays[k].shape[1:] == shape[-1:]:
                hint = (f"params[{k!r}] grew one row per example: the gradient d{k} from your "
                        f"exercise-6 backward has shape {arrays[k].shape} instead of {shape}; "
                        "sum it over the rows (axis=0) there, and check that the ex06 checks pass")
            raise CheckFailure(f"params[{k!r}] from fit has the wrong shape",
                               expected=f"shape {shape}", got=f"shape {arrays[k].shape}", hint=hint)
    return arrays, history


def predict(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The class each point gets from the network with these params (argmax of the logits)."""
    hidden = 1.0 / (1.0 + np.exp(-(x.astype(np.float64) @ params["W1"] + params["b1"])))
    return np.argmax(hidden @ params["W2"] + params["b2"], axis=1)


def check_history(history: Any, steps: int) -> np.ndarray:
    """loss_history as a float array of length `steps`, finite, or a failure."""
    if not isinstance(history, (list, tuple, np.ndarray)):
        raise CheckFailure("loss_history must be a list of floats, one per step",
                           expected=f"a list of {steps} floats", got=show(history))
    values = []
    for step, value in enumerate(history):
        try:
            number = as_array(value, f"loss_history[{step}]")
        except CheckFailure:
            raise CheckFailure("loss_history must hold numbers", expected="float(loss) at each step",
                               got=f"loss_history[{step}] = {show(value)}") from None
        if number.size != 1:
            raise CheckFailure("each entry of loss_history must be ONE number, the loss of a step",
                               expected="float(loss)", got=f"loss_history[{step}] = {show(number)}")
        values.append(float(number.reshape(())))
    losses = np.array(values)
    if losses.shape != (steps,):
        raise CheckFailure("loss_history must have one loss per step",
                           expected=f"{steps} values (steps={steps})", got=f"{len(losses)} values",
                           hint="append float(loss) once in every step of the loop")
    if not np.all(np.isfinite(losses)):
        first = int(np.argmin(np.isfinite(losses)))
        raise CheckFailure("the loss became nan or inf during training",
                           expected="finite losses", got=f"loss_history[{first}] = {losses[first]}",
                           hint="a learning rate that is far too large makes the loss blow up")
    return losses


SPIRAL_X, SPIRAL_Y = two_spirals(FIT_POINTS, seed=0)


def recommended_fit(sub: Any, x: np.ndarray, y: np.ndarray,
                    seed: int) -> tuple[dict[str, np.ndarray], Any]:
    """fit with the settings of grader.course.toydata.RECOMMENDED_FIT."""
    return run_fit(sub, x, y, int(RECOMMENDED_FIT["hidden"]), float(RECOMMENDED_FIT["lr"]),
                   int(RECOMMENDED_FIT["steps"]), seed)


def _public_fit(sub: Any) -> tuple[dict[str, np.ndarray], Any]:
    return recommended_fit(sub, SPIRAL_X, SPIRAL_Y, seed=0)


@pytest.mark.points(3)
def test_fit_learns_the_spirals(sub: Any) -> None:
    """fit reaches at least 95 % accuracy on the two spirals"""
    params, _ = _public_fit(sub)
    accuracy = float(np.mean(predict(params, SPIRAL_X) == SPIRAL_Y))
    if not accuracy >= TARGET_ACCURACY:
        settings = ", ".join(f"{k}={v}" for k, v in RECOMMENDED_FIT.items())
        raise CheckFailure(
            "the trained network does not separate the two spirals well enough",
            expected=f"at least {TARGET_ACCURACY:.0%} of the {FIT_POINTS} points right "
                     f"(fit with {settings}, seed=0)",
            got=f"{accuracy:.1%} right (measured here with the params fit returned)",
            hint="check that every step does forward, backward, then sgd_step with the given lr, "
                 "and that fit returns the FINAL params; fit uses your exercise-6 forward and "
                 "backward, so make sure the ex06 checks pass first",
        )


@pytest.mark.points(1)
def test_fit_loss_history(sub: Any) -> None:
    """fit records one finite loss per step, and the loss goes down"""
    _, history = _public_fit(sub)
    losses = check_history(history, int(RECOMMENDED_FIT["steps"]))
    tenth = max(1, len(losses) // 10)
    if not (losses[-1] < losses[0] and losses[-tenth:].mean() < losses[:tenth].mean()):
        raise CheckFailure("the loss did not go down during training",
                           expected="a loss that falls overall from the first steps to the last",
                           got=f"first loss {losses[0]:.4f}, last loss {losses[-1]:.4f}",
                           hint="each step must move AGAINST the gradient: params = "
                                "sgd_step(params, grads, lr) with the new params kept for the "
                                "next step")
