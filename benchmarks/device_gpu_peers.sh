#!/usr/bin/env bash
# One device call for the GPU comparison of issue 8 (KERAS_BACKEND=jax; about 8 minutes):
# albert_tf (fused attention, XLA) against HF + torch.compile (as HF users run it, and, on
# base, doing only our work: MLM head at the masked positions, no mask so SDPA may use
# flash), HF eager and keras-hub on JAX, ALBERT-base batch 64 and ALBERT-xxlarge batch 16,
# seq 512, bf16, all in this one call.
#
# The device has JAX, PyTorch and transformers but no network: Keras and keras-hub travel as
# wheels in the git-ignored .whl/ (py3.12): keras, namex, optree, keras-hub, kagglehub,
# kagglesdk (`pip download --no-deps --python-version 3.12 --only-binary=:all: -d .whl ...`).
# Run from the repository root with carry [".whl"]; results land under $OUT.
set -u
OUT=${OUT:-/tmp/gpu_peers}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD
cd benchmarks
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
timeout 330 python3 gpu_pretraining_bench.py --runs=base:64 --steps=20 \
  --impls=albert_fused,hf_compile,hf_compile_gather_nomask,keras_hub,hf --out="$OUT/base"
timeout 240 python3 gpu_pretraining_bench.py --runs=xxlarge:16 --steps=10 \
  --impls=albert_fused,hf_compile,keras_hub,hf --out="$OUT/xxlarge"
