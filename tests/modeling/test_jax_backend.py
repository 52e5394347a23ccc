"""The same model code under KERAS_BACKEND=jax gives the TensorFlow outputs."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from albert_tf import AlbertPretrainer
from tiny_config import tiny_config

pytest.importorskip("jax", reason="jax not installed (pip install -e .[jax])")

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras
    assert keras.backend.backend() == "jax", keras.backend.backend()
    from albert_tf import AlbertConfig, AlbertPretrainer
    work = sys.argv[1]
    config = AlbertConfig.from_json_file(work + "/albert_config.json")
    model = AlbertPretrainer(config, dtype=sys.argv[2], attention_implementation=sys.argv[3])
    model.load_weights(work + "/model.weights.h5")
    inputs = dict(np.load(work + "/inputs.npz"))
    out = model(inputs, training=False)
    np.savez(work + "/jax_out.npz", **{k: np.asarray(keras.ops.cast(v, "float32"))
                                       for k, v in out.items()})
    print(json.dumps({"tensorflow_imported": "tensorflow" in sys.modules}))
""")


@pytest.mark.parametrize("dtype, atol, attention", [
    ("float32", 1e-5, "einsum"), ("mixed_bfloat16", 0.1, "einsum"), ("float32", 1e-5, "fused")])
def test_jax_backend_matches_tensorflow(tmp_path, dtype, atol, attention):
    config = tiny_config(vocab_size=37, hidden_size=12, num_hidden_layers=4, num_hidden_groups=2,
                         inner_group_num=2, num_attention_heads=3, intermediate_size=20,
                         max_position_embeddings=16)
    config.to_json_file(str(tmp_path / "albert_config.json"))
    model = AlbertPretrainer(config)
    rng = np.random.default_rng(0)
    # Non-trivial weights so that a wrong op shows.
    model.set_weights([w + 0.2 * rng.standard_normal(w.shape).astype(np.float32)
                       for w in model.get_weights()])
    model.save_weights(str(tmp_path / "model.weights.h5"))
    mask = np.ones((2, 10), np.int32)
    mask[1, 6:] = 0
    inputs = {"input_ids": rng.integers(0, 37, (2, 10)).astype(np.int32), "input_mask": mask,
              "segment_ids": np.tile((np.arange(10) >= 4).astype(np.int32), (2, 1)),
              "masked_lm_positions": np.array([[1, 2, 9], [0, 3, 5]], np.int32)}
    np.savez(str(tmp_path / "inputs.npz"), **inputs)
    want = model(inputs, training=False)

    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), dtype, attention], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # The model code path must not need TensorFlow (the GPU benchmarks run without it).
    assert report["tensorflow_imported"] is False
    got = np.load(str(tmp_path / "jax_out.npz"))
    for key in ("sequence_output", "pooled_output", "mlm_logits", "sop_logits"):
        np.testing.assert_allclose(got[key], np.asarray(want[key]), atol=atol, rtol=atol,
                                   err_msg=key)
