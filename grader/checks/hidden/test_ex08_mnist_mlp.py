"""Exercise 8 (a Keras MLP on MNIST): hidden checks, the full training run.

The learner's own build_model, compile_model and train run on all 60,000 training
images, with the EPOCHS and BATCH_SIZE their file declares (read with ast, never
run; clamped to 1..10 and 32..2048; 10 and 128 when absent), within a time budget.
The run is the public goal check's (`full_run`, once per learner).
The child never sees the test images: the trained model is exported as plain layer
configs and weights, rebuilt here from an allowlist of layer kinds, and scored by our
own numpy forward pass (grader.checking.mlp). The score is a staircase from 90 % to
98 %: one check per step, so partial credit needs no engine support and the feedback
of each step gives the accuracy. Only a model this grader can rebuild as an MLP (within
the parameter cap) is scored: anything else gets no step, with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.checks.support import CheckFailure
from grader.checks.public.test_ex08_mnist_mlp import full_run

pytestmark = pytest.mark.exercise("ex08")

#: (accuracy needed, points): full marks at 98 %, two points per step from 90 %.
STEPS = ((0.90, 2), (0.92, 2), (0.94, 2), (0.96, 2), (0.98, 2))


def _step(needed: float, points: int) -> Any:
    @pytest.mark.points(points)
    def check(sub: Any) -> None:
        run = full_run(sub)
        accuracy = run.accuracy
        if accuracy >= needed:
            return
        hint = ("train longer (EPOCHS, at most 10) or with a wider hidden layer; scale the input "
                "with Rescaling(1/255); Adam with a learning rate near 1e-3 works well")
        if accuracy < 0.5:
            hint = ("the model barely learned: check the loss (sparse categorical cross-entropy "
                    "with from_logits=True if the last layer has no softmax) and the Rescaling")
        raise CheckFailure(
            f"the trained model gets {accuracy:.2%} of the 10,000 test images right",
            expected=f"at least {needed:.0%}",
            got=f"{accuracy:.2%} after {run.settings()}",
            hint="; and ".join(run.reasons) or hint)

    check.__doc__ = f"after full training, at least {needed:.0%} of the MNIST test images are right"
    return check


test_test_accuracy_90 = _step(*STEPS[0])
test_test_accuracy_92 = _step(*STEPS[1])
test_test_accuracy_94 = _step(*STEPS[2])
test_test_accuracy_96 = _step(*STEPS[3])
test_test_accuracy_98 = _step(*STEPS[4])

assert len(STEPS) == 5, "one test_ function per step"
