"""The SQuAD v2.0 model under KERAS_BACKEND=jax gives the TensorFlow outputs."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from albert_tf import AlbertConfig
from albert_tf.modeling.models.squad import AlbertSquadV2

pytest.importorskip("jax", reason="jax not installed (pip install -e .[jax])")

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras
    assert keras.backend.backend() == "jax", keras.backend.backend()
    from albert_tf import AlbertConfig
    from albert_tf.modeling.models.squad import AlbertSquadV2
    work = sys.argv[1]
    config = AlbertConfig.from_json_file(work + "/albert_config.json")
    model = AlbertSquadV2(config, start_n_top=3, end_n_top=2)
    model.load_weights(work + "/model.weights.h5")
    inputs = dict(np.load(work + "/inputs.npz"))
    out = {}
    for mode, batch in (("search", {k: v for k, v in inputs.items()
                                    if k != "start_positions"}), ("forced", inputs)):
        for k, v in model(batch, training=False).items():
            out[mode + "/" + k] = np.asarray(v)
    np.savez(work + "/jax_out.npz", **out)
    print(json.dumps({"tensorflow_imported": "tensorflow" in sys.modules}))
""")


def test_v2_head_on_jax_matches_tensorflow(tmp_path):
    config = AlbertConfig(vocab_size=37, embedding_size=8, hidden_size=12, num_hidden_layers=2,
                          num_attention_heads=3, intermediate_size=20,
                          max_position_embeddings=16)
    config.to_json_file(str(tmp_path / "albert_config.json"))
    model = AlbertSquadV2(config, start_n_top=3, end_n_top=2)
    rng = np.random.default_rng(0)
    model.set_weights([w + 0.3 * rng.standard_normal(w.shape).astype(np.float32)
                       for w in model.get_weights()])
    model.save_weights(str(tmp_path / "model.weights.h5"))
    p_mask = np.zeros((2, 10), np.int32)
    p_mask[:, 1:3] = 1
    p_mask[1, 7:] = 1
    input_mask = np.ones((2, 10), np.int32)
    input_mask[1, 7:] = 0   # padding of the second row
    inputs = {"input_ids": rng.integers(0, 37, (2, 10)).astype(np.int32),
              "input_mask": input_mask,
              "segment_ids": np.tile((np.arange(10) >= 3).astype(np.int32), (2, 1)),
              "p_mask": p_mask, "start_positions": np.array([4, 0], np.int32)}
    np.savez(str(tmp_path / "inputs.npz"), **inputs)
    want = {}
    for mode, batch in (("search", {k: v for k, v in inputs.items()
                                    if k != "start_positions"}), ("forced", inputs)):
        for k, v in model(batch, training=False).items():
            want[mode + "/" + k] = np.asarray(v)

    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1])["tensorflow_imported"] is False
    got = dict(np.load(str(tmp_path / "jax_out.npz")))
    assert set(got) == set(want)
    for key, value in want.items():
        if key.endswith("_index"):
            np.testing.assert_array_equal(got[key], value, err_msg=key)
        else:
            free = value > -1e29   # masked logits agree as "below -1e29"
            np.testing.assert_allclose(got[key][free], value[free], atol=1e-4, err_msg=key)
            assert np.all(got[key][~free] <= -1e29), key
