"""Save-to-feedback latency of `grader watch ex03`, against a bare `import tensorflow`, in one run.

Starts `grader watch ex03` on a copy of the solution, waits for its first report, then saves the
file N times (alternating a sign error and the fix) and measures, for each save, the time from
the write to the end of the next report. Prints each latency, their median, a bare TensorFlow
import measured in the same run, and the ratio (goal: at most 0.3).

    python benchmarks/bench_watch.py [--saves 6]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import TF_IMPORT, hardware, wall  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=6)
    args = parser.parse_args()
    solution = (ROOT / "solutions" / "ex03_activations.py").read_text()
    broken = solution.replace("1.0 / (1.0 + tf.exp(-x))", "1.0 / (1.0 + tf.exp(x))")
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "ex03_activations.py"
        target.write_text(solution)
        process = subprocess.Popen([sys.executable, "-m", "grader.cli.main", "watch", "ex03", "--dir", folder],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        ends: list[float] = []

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("  changes:"):
                    ends.append(time.perf_counter())

        threading.Thread(target=read, daemon=True).start()
        started = time.perf_counter()
        while not ends:
            time.sleep(0.05)
        first = ends[0] - started
        latencies = []
        for number in range(args.saves):
            time.sleep(1.0)
            seen = len(ends)
            saved = time.perf_counter()
            target.write_text(broken if number % 2 == 0 else solution)
            while len(ends) == seen:
                time.sleep(0.01)
            latencies.append(ends[-1] - saved)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    tf_import = wall(TF_IMPORT)
    median = statistics.median(latencies)
    print(f"hardware: {hardware()}")
    print(f"first report (TensorFlow imported once, in the zygote): {first:.2f} s")
    print("save -> feedback: " + ", ".join(f"{x:.2f}" for x in latencies) + " s")
    print(f"median save -> feedback: {median:.2f} s; bare `import tensorflow`: {tf_import:.2f} s; "
          f"ratio {median / tf_import:.2f} (goal <= 0.3)")


if __name__ == "__main__":
    main()
