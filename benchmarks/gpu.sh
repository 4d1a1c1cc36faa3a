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
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" "$root"/.whl/*.whl
export PYTHONPATH="$site:$root" KERAS_BACKEND=jax MNIST_DIR="${MNIST_DIR:-$root/.mnist}" PYTHONUNBUFFERED=1
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$results/device.txt"
cd "$root"
timeout 280 python3 benchmarks/bench_gpu.py "$results" 2>&1 | tee "$results/gpu_log.txt"
