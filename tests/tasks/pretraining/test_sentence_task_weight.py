"""`--sentence_order_loss_weight=0` (masked LM alone): the pooler and the SOP head keep
the initial checkpoint's values through training, while the rest of the model trains;
at the official weight 1 the same run moves them."""

import numpy as np
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.checkpoints import save_official_checkpoint
from albert_tf.tasks.pretraining.task import PretrainingParams, run_pretraining
from synthetic_pretraining_data import write_records

from ...training.test_run_loop import TINY

HEAD_AND_POOLER = ("bert/pooler/dense/kernel", "bert/pooler/dense/bias",
                   "cls/seq_relationship/output_weights", "cls/seq_relationship/output_bias")
TRAINED = ("bert/embeddings/word_embeddings", "cls/predictions/output_bias")


def test_masked_lm_alone_leaves_pooler_and_sop_head_as_they_started(tmp_path):
    init = str(tmp_path / "init" / "model.ckpt-0")
    save_official_checkpoint(AlbertPretrainer(AlbertConfig.from_json_file(str(TINY))), init,
                             global_step=0)
    records = write_records(tmp_path / "train.tfrecord", 16, vocab_size=30000)
    start = tf.train.load_checkpoint(init)
    moved = {}
    for weight in (0.0, 1.0):
        out = tmp_path / f"out{weight:g}"
        run_pretraining(PretrainingParams(
            albert_config_file=str(TINY), input_file=str(records), output_dir=str(out),
            init_checkpoint=init, max_seq_length=32, max_predictions_per_seq=5,
            train_batch_size=8, num_train_steps=3, num_warmup_steps=0, learning_rate=0.01,
            save_checkpoints_steps=3, iterations_per_loop=3,
            sentence_order_loss_weight=weight))
        end = tf.train.load_checkpoint(str(out / "model.ckpt-3"))
        moved[weight] = {name: float(np.max(np.abs(end.get_tensor(name)
                                                   - start.get_tensor(name))))
                         for name in HEAD_AND_POOLER + TRAINED}
    for name in HEAD_AND_POOLER:
        assert moved[0.0][name] == 0.0, (name, moved[0.0])
        assert moved[1.0][name] > 0.0, (name, moved[1.0])
    for name in TRAINED:
        assert moved[0.0][name] > 0.0, (name, moved[0.0])
