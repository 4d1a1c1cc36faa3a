"""Exercise 7 (gradient descent): hidden checks.

Inputs come from the secret seed. `sgd_step` gets parameter dicts with other
keys and shapes; `fit` is checked step by step: run for k and for k + 1 steps
with the same seed, then the last step must be exactly one gradient-descent
step with the given lr from the parameters after k steps (gradients from the
learner's own ex06, so that only fit's loop is graded here), with the loss
recorded before the update. Finally fit must learn spirals it has not seen
(a hidden data seed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.checks.support import CheckFailure, show, two_spirals
from grader.checks.hidden.reference import ex06_loss_and_gradients
from grader.checks.public.test_ex07_gradient_descent import (
    KEYS,
    check_history,
    check_sgd_step,
    needs_ex06,  # noqa: F401 (an autouse fixture: it applies here too)
    predict,
    recommended_fit,
    run_fit,
)

pytestmark = pytest.mark.exercise("ex07")

HIDDEN_ACCURACY = 0.90


@pytest.mark.points(1)
def test_sgd_step_any_keys(sub: Any, hidden_rng: np.random.Generator) -> None:
    """sgd_step updates every key of any parameter dict, with any learning rate"""
    sizes = [int(v) for v in hidden_rng.integers(2, 6, 4)]
    shapes = {"W1": (sizes[0], sizes[1]), "b1": (sizes[1],), "W2": (sizes[1], sizes[2]),
              "b2": (sizes[2],), "W3": (sizes[2], sizes[3]), "b3": (sizes[3],)}
    params = {k: hidden_rng.normal(0, 1, s).astype(np.float32) for k, s in shapes.items()}
    grads = {k: hidden_rng.normal(0, 1, s).astype(np.float32) for k, s in shapes.items()}
    check_sgd_step(sub, params, grads, float(np.round(hidden_rng.uniform(0.01, 2.0), 3)))


def _close(a: Any, b: Any) -> bool:
    return bool(np.allclose(a, b, rtol=1e-4, atol=1e-5))


def own_loss_and_gradients(sub: Any, params: dict[str, np.ndarray], x: np.ndarray,
                           y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """Loss and gradients as the learner's fit sees them: from their own ex06 when fit uses it.

    The step check then tests fit's loop alone; a wrong ex06 is graded by ex06's checks.
    """
    if not (sub.has("ex06") and "ex06_backprop" in sub.ex07.source):
        return ex06_loss_and_gradients(params, x, y)
    as32 = {n: params[n].astype(np.float32) for n in KEYS}
    loss, cache = sub.ex06.forward(as32, x, y)
    grads = sub.ex06.backward(as32, cache)
    return float(np.asarray(loss, dtype=np.float64).reshape(())), \
        {n: np.asarray(grads[n], dtype=np.float64) for n in KEYS}


@pytest.mark.points(2)
def test_fit_takes_gradient_steps(sub: Any, hidden_rng: np.random.Generator) -> None:
    """each step of fit is one gradient-descent step with the given lr, loss recorded first"""
    x, y = two_spirals(int(hidden_rng.integers(60, 200)), seed=int(hidden_rng.integers(1, 2**30)))
    hidden = int(hidden_rng.integers(4, 17))
    lr = float(np.round(hidden_rng.uniform(0.3, 3.0), 2))
    seed = int(hidden_rng.integers(1, 2**20))
    k = int(hidden_rng.integers(2, 5))
    before, history_k = run_fit(sub, x, y, hidden, lr, k, seed)
    after, history_k1 = run_fit(sub, x, y, hidden, lr, k + 1, seed)
    losses_k, losses_k1 = check_history(history_k, k), check_history(history_k1, k + 1)
    if not _close(losses_k1[:k], losses_k):
        raise CheckFailure("two runs of fit with the same seed did not give the same losses",
                           expected=f"the same first {k} losses",
                           got=f"{show(losses_k)} and {show(losses_k1[:k])}",
                           hint="start from _initial_params(2, hidden, 2, seed), so that the seed "
                                "alone decides the starting point")
    loss, grads = own_loss_and_gradients(sub, before, x, y)
    step = {n: before[n] - lr * grads[n] for n in KEYS}
    if not _close(losses_k1[k], loss):
        after_loss, _ = own_loss_and_gradients(sub, step, x, y)
        hint = "append float(loss) from forward() at the start of each step, before the update"
        if _close(losses_k1[k], after_loss):
            hint = "you record the loss AFTER the update; " + hint
        raise CheckFailure(f"loss_history[{k}] is not the loss at the start of step {k}",
                           expected=f"{loss:.6f}", got=f"{losses_k1[k]:.6f}", hint=hint)
    if all(_close(after[n], step[n]) for n in KEYS):
        return
    problem, hint = "the last step of fit is not W - lr * dW", "params = sgd_step(params, grads, lr)"
    change = np.concatenate([(after[n] - before[n]).ravel() for n in KEYS])
    gradient = np.concatenate([grads[n].ravel() for n in KEYS])
    if np.allclose(change, 0.0):
        problem = "fit did not change the parameters in its last step"
        hint = "keep the result: params = sgd_step(params, grads, lr)"
    elif float(gradient @ gradient) > 0:
        used = -float(change @ gradient) / float(gradient @ gradient)
        if np.allclose(change, -used * gradient, rtol=1e-3, atol=1e-6):
            if np.isclose(used, -lr, rtol=1e-3):
                problem = "fit ADDED the gradient: its step was W + lr * dW"
                hint = "step against the gradient, downhill: W - lr * dW"
            else:
                problem = f"fit stepped with a learning rate of {used:.4g} instead of lr = {lr}"
                hint = "pass fit's own lr argument to sgd_step"
    raise CheckFailure(problem, expected=show(step["W2"].astype(np.float32)),
                       got=show(after["W2"].astype(np.float32)), hint=hint)


@pytest.mark.points(1)
def test_fit_learns_new_spirals(sub: Any, hidden_rng: np.random.Generator) -> None:
    """fit also learns spirals drawn from a seed it has not seen"""
    x, y = two_spirals(400, seed=int(hidden_rng.integers(1, 2**30)))
    params, _ = recommended_fit(sub, x, y, seed=int(hidden_rng.integers(1, 2**20)))
    accuracy = float(np.mean(predict(params, x) == y))
    if not accuracy >= HIDDEN_ACCURACY:
        raise CheckFailure("the trained network does not separate these spirals",
                           expected=f"at least {HIDDEN_ACCURACY:.0%} of the points right",
                           got=f"{accuracy:.1%} right",
                           hint="fit must train on the x and y it is given, from the seed it "
                                "is given")
