#!/usr/bin/env bash
# Download the wheels benchmarks/gpu.sh installs on the GPU machine (Python 3.12, x86-64) into .whl/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
for spec in keras==3.15.1 namex optree pytest pluggy iniconfig packaging rich markdown-it-py mdurl pygments h5py ml_dtypes absl-py; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "$spec"
done
mkdir -p .mnist && cp "${MNIST_DIR:-../shared/data/mnist}"/*.gz .mnist/
du -sh .whl .mnist
