#!/usr/bin/env bash
# Run the ex08 reference, the ex08 checks and the hand-written JAX loop on the GPU machine.
#
# Usage: benchmarks/gpu.sh RESULTS_DIR
# The machine has CUDA and JAX but no TensorFlow and no internet. What the script
# needs beyond the repo travels beside it, in ignored folders:
#   .whl/    keras, namex, optree, pytest, pluggy, iniconfig (fetch with benchmarks/fetch_gpu_wheels.sh)
#   .mnist/  a copy of the four MNIST .gz files
set -euo pipefail
results=${1:?usage: benchmarks/gpu.sh RESULTS_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$results"
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
wheels=${GPU_WHEELS:-$root/.whl}
# Install only what this Python lacks: JAX's own numpy/ml_dtypes must not be shadowed.
missing=$(python3 - "$wheels" <<'PY'
import importlib.util, pathlib, sys
names = {"absl_py": "absl", "markdown_it_py": "markdown_it", "pygments": "pygments"}
for wheel in sorted(pathlib.Path(sys.argv[1]).glob("*.whl")):
    project = wheel.name.split("-")[0]
    module = names.get(project, project.lower())
    if importlib.util.find_spec(module) is None:
        print(wheel)
PY
)
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" $missing
fi
export PYTHONPATH="$site:$root" KERAS_BACKEND=jax MNIST_DIR="${MNIST_DIR:-$root/.mnist}" PYTHONUNBUFFERED=1
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$results/device.txt"
cd "$root"
timeout 280 python3 benchmarks/bench_gpu.py "$results" 2>&1 | tee "$results/gpu_log.txt"
