"""Target 6 (and ex08 on the GPU): the reference MLP on Keras/JAX vs a hand-written JAX loop.

Run by benchmarks/gpu.sh on the GPU machine (no TensorFlow there), or on the CPU
with KERAS_BACKEND=jax to test it. Usage: python benchmarks/bench_gpu.py RESULTS_DIR
Writes RESULTS_DIR/gpu_results.json and prints the same figures.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))


def main() -> None:
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import jax

    from bench_mnist import load_reference, time_to_98

    report: dict = {"device": str(jax.devices()[0]), "backend": os.environ["KERAS_BACKEND"]}
    print(f"device: {report['device']}", flush=True)
    reference = load_reference()
    epochs, batch = getattr(reference, "EPOCHS", 10), getattr(reference, "BATCH_SIZE", 128)
    started = time.perf_counter()
    keras_run = time_to_98(epochs, batch)
    keras_run["wall_s"] = time.perf_counter() - started
    steady = statistics.median(keras_run["epoch_seconds"][1:])
    report["reference"] = keras_run | {"steady_epoch_s": steady}
    print(f"reference (Keras on JAX): {epochs} epochs at batch {batch}: steady epoch {steady:.4f} s, "
          f"first epoch {keras_run['epoch_seconds'][0]:.2f} s, final accuracy {keras_run['accuracy'][-1]:.4f}, "
          f"98 % after {keras_run['seconds_to_98']} s", flush=True)

    import keras

    model = reference.build_model()
    sizes = [784] + [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    loop = subprocess.run(
        [sys.executable, str(HERE / "jax_mlp_loop.py"), "--sizes", *map(str, sizes), "--batch", str(batch),
         "--epochs", "6"],
        capture_output=True, text=True, check=True,
    )
    report["jax_loop"] = json.loads(loop.stdout.strip().splitlines()[-1])
    ratio = steady / report["jax_loop"]["steady_epoch_s"]
    report["target6_ratio"] = ratio
    print(f"hand-written jitted JAX loop, same sizes {sizes} and batch {batch}: steady epoch "
          f"{report['jax_loop']['steady_epoch_s']:.4f} s, accuracy {report['jax_loop']['test_accuracy']:.4f}")
    print(f"target 6: Keras epoch / JAX-loop epoch = {ratio:.2f} (target <= 3)", flush=True)

    from grader.course.exercises import find_exercise
    from grader.checking.runner import RunOptions, run_checks
    from grader.checking.submission import load_submission

    started = time.perf_counter()
    result = run_checks(load_submission(ROOT / "solutions"), (find_exercise("ex08"),),
                        RunOptions(hidden=True, seed=1))
    exercise = result.exercises[0]
    report["ex08_checks"] = {"points": exercise.points, "max_points": exercise.max_points,
                             "wall_s": time.perf_counter() - started,
                             "tests": [t.to_dict() for t in exercise.tests]}
    print(f"ex08 checks through the grader on this device: {exercise.points:g}/{exercise.max_points:g} "
          f"in {report['ex08_checks']['wall_s']:.1f} s")
    for test in exercise.tests:
        print(f"  {test.status.value:<13} {test.name} {test.feedback.splitlines()[0] if test.feedback else ''}")
    (out_dir / "gpu_results.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
