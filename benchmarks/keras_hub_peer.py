"""The keras-hub peer of `pretraining_transfer.py` (issue 27): keras-hub's own ALBERT,
pretrained and fine-tuned with Keras `fit` on the records, vocabulary and task folders
that the harness built for our arms.

Pretraining: `keras_hub.models.AlbertBackbone` with our config's sizes under
`keras_hub.models.AlbertMaskedLM`, on the same TFRecords (official schema), steps, batch
size and peak learning rate. keras-hub has no sentence-order head, so the peer is trained
on MLM only (its pooler receives no gradient and stays as drawn). Held-out MLM accuracy
and loss on the same held-out records as our arm, every `eval_every` steps.

Fine-tuning: `keras_hub.models.AlbertTextClassifier` with an
`AlbertTextClassifierPreprocessor` over an `AlbertTokenizer` of the same SentencePiece
file, from the pretrained backbone or from scratch; the same rows (our GLUE processor,
whose official text cleaning lower-cases as the vocabulary and the records were made),
seeds, steps, batch size, learning-rate schedule and dropout as our arms; only the final
weights are scored on dev.

Only keras, keras-hub and tf.data do the work; from albert_tf the peer takes the GLUE
processors (which rows, which labels) and the learning-rate schedule (the same rule).
"""

import json
import os

# Our records: the official create_pretraining_data.py schema.
RECORD_FEATURES = ("input_ids", "input_mask", "segment_ids", "masked_lm_positions",
                   "masked_lm_ids", "masked_lm_weights", "next_sentence_labels")
# keras variable *names* (Keras matches weight-decay exclusions on `variable.name`):
# LayerNorm gamma/beta and every bias, the variables official ALBERT excludes by its
# ["LayerNorm", "layer_norm", "bias"] patterns.
NO_WEIGHT_DECAY = ["gamma", "beta", "bias"]


def backbone_from_config(config):
    """An `AlbertBackbone` with the sizes of our `albert_config.json` dict.

    keras-hub has one dropout knob for the whole encoder; it takes `hidden_dropout_prob`
    (ours and ALBERT v2's is 0.0, as is `attention_probs_dropout_prob`). Fixed by
    keras-hub, not by the config: the tanh GELU and truncated-normal(0.02) initializers."""
    import keras_hub
    if config["hidden_dropout_prob"] != config["attention_probs_dropout_prob"]:
        raise ValueError(
            f"keras_hub peer: AlbertBackbone has one dropout rate; the config has "
            f"hidden_dropout_prob {config['hidden_dropout_prob']} and "
            f"attention_probs_dropout_prob {config['attention_probs_dropout_prob']}")
    return keras_hub.models.AlbertBackbone(
        vocabulary_size=config["vocab_size"], num_layers=config["num_hidden_layers"],
        num_heads=config["num_attention_heads"], embedding_dim=config["embedding_size"],
        hidden_dim=config["hidden_size"], intermediate_dim=config["intermediate_size"],
        num_groups=config.get("num_hidden_groups", 1),
        num_inner_repetitions=config.get("inner_group_num", 1),
        dropout=config["hidden_dropout_prob"],
        max_sequence_length=config["max_position_embeddings"],
        num_segments=config["type_vocab_size"])


def masked_lm_dataset(path, batch_size, max_seq_length, max_predictions_per_seq,
                      training, seed=None, max_batches=None):
    """Our records as AlbertMaskedLM's (x, y, sample_weight): x = token_ids,
    segment_ids, padding_mask [batch, max_seq_length] and mask_positions
    [batch, max_predictions_per_seq]; y = masked_lm_ids; sample_weight =
    masked_lm_weights (0 on the padded predictions). Training: repeat, shuffle 1000
    records (our reader's buffer), whole batches. Evaluation: in order, the last partial
    batch kept, at most `max_batches` (our run's `max_eval_steps`)."""
    import tensorflow as tf
    lengths = {"masked_lm_positions": max_predictions_per_seq,
               "masked_lm_ids": max_predictions_per_seq,
               "masked_lm_weights": max_predictions_per_seq, "next_sentence_labels": 1}
    spec = {name: tf.io.FixedLenFeature(
        [lengths.get(name, max_seq_length)],
        tf.float32 if name == "masked_lm_weights" else tf.int64) for name in RECORD_FEATURES}

    def to_inputs(record):
        f = tf.io.parse_single_example(record, spec)
        x = {"token_ids": tf.cast(f["input_ids"], tf.int32),
             "segment_ids": tf.cast(f["segment_ids"], tf.int32),
             "padding_mask": tf.cast(f["input_mask"], tf.int32),
             "mask_positions": tf.cast(f["masked_lm_positions"], tf.int32)}
        return x, tf.cast(f["masked_lm_ids"], tf.int32), f["masked_lm_weights"]

    d = tf.data.TFRecordDataset(path)
    if training:
        d = d.repeat().shuffle(1000, seed=seed)
    d = d.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE)
    d = d.batch(batch_size, drop_remainder=training)
    if max_batches:
        d = d.take(max_batches)
    return d.prefetch(tf.data.AUTOTUNE)


# Our --mixed_precision values as Keras dtype policies (float32 variables; Keras's
# compile adds loss scaling under mixed_float16 by itself).
POLICIES = {"none": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


def set_precision(mixed_precision):
    import keras
    key = (mixed_precision or "none").lower()
    if key not in POLICIES:
        raise ValueError(f"keras_hub peer: --mixed_precision expected one of "
                         f"{sorted(POLICIES)}; got {mixed_precision!r}")
    keras.config.set_dtype_policy(POLICIES[key])


def pretrain_masked_lm(config, train_records, eval_records, steps, batch_size, learning_rate,
                       eval_every, max_seq_length, max_predictions_per_seq, seed=12345,
                       eval_batch_size=64, max_eval_steps=50, jit_compile=False,
                       mixed_precision="none", optimizer="adamw"):
    """Pretrains a fresh AlbertMaskedLM; returns (the model, held-out history rows, the
    last training metrics). `optimizer`: "adamw" or "lamb" (Keras's)."""
    import keras
    import keras_hub
    from albert_tf.training.schedules import WarmupPolyDecay
    if steps % eval_every:
        raise ValueError(f"keras_hub peer: --pretrain_steps ({steps}) must be a multiple of "
                         f"--eval_every ({eval_every}): it evaluates at each Keras epoch end")
    keras.utils.set_random_seed(seed)
    set_precision(mixed_precision)
    masked_lm = keras_hub.models.AlbertMaskedLM(backbone_from_config(config))
    # Default AdamW, not Keras's LAMB: Keras's LAMB puts the layer-wise trust ratio on
    # every variable, so a zero-initialised bias or LayerNorm beta grows by only a
    # factor (1 + lr) per step, where official LAMB (ours) exempts LayerNorm and biases.
    # Measured on the harness's records (E 16, H 32, vocabulary 1,000, batch 16), held-out
    # MLM accuracy after 20 steps at 0.00176: Keras LAMB 0.004, our LAMB 0.039, Adam 0.095.
    # The rate is our rule, peak included (10 % linear warmup, linear decay to 0, the
    # pretraining --pretrain_learning_rate), so both arms get one a-priori value. As
    # official create_optimizer: betas 0.9/0.999, epsilon 1e-6, weight decay 0.01 (not on
    # LayerNorm or biases), gradients clipped to global norm 1.0; Keras's optimizers add
    # bias correction, and their decay is decoupled (lr * 0.01 * w).
    optimizers = {"adamw": keras.optimizers.AdamW, "lamb": keras.optimizers.Lamb}
    if optimizer not in optimizers:
        raise ValueError(f"keras_hub peer: optimizer expected one of {sorted(optimizers)}; "
                         f"got {optimizer!r}")
    optimizer = optimizers[optimizer](
        learning_rate=WarmupPolyDecay(learning_rate, steps, max(1, steps // 10)),
        beta_1=0.9, beta_2=0.999, epsilon=1e-6, weight_decay=0.01, global_clipnorm=1.0)
    optimizer.exclude_from_weight_decay(var_names=NO_WEIGHT_DECAY)
    masked_lm.compile(
        optimizer=optimizer,
        # Mean over the real predictions (weight 1), as our masked_lm_loss, not over
        # every padded slot.
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=jit_compile)
    fitted = masked_lm.fit(
        masked_lm_dataset(train_records, batch_size, max_seq_length,
                          max_predictions_per_seq, training=True, seed=seed),
        validation_data=masked_lm_dataset(eval_records, eval_batch_size, max_seq_length,
                                          max_predictions_per_seq, training=False,
                                          max_batches=max_eval_steps),
        epochs=steps // eval_every, steps_per_epoch=eval_every, verbose=2)
    h = fitted.history
    history = [{"global_step": (i + 1) * eval_every,
                "masked_lm_accuracy": float(h["val_accuracy"][i]),
                "masked_lm_loss": float(h["val_loss"][i])} for i in range(len(h["val_loss"]))]
    return masked_lm, history, {"loss": float(h["loss"][-1]),
                                "masked_lm_accuracy": float(h["accuracy"][-1])}


def pretrain(config, train_records, eval_records, out_dir, **settings):
    """`pretrain_masked_lm`, once per `out_dir`: the backbone's weights in
    `backbone.weights.h5` (what fine-tuning loads) and, read straight from the trained
    variables, in `backbone_arrays.npz` (what `check_loading` compares with); the
    held-out history in `history.json`."""
    import keras
    import numpy as np
    weights = os.path.join(out_dir, "backbone.weights.h5")
    record = os.path.join(out_dir, "history.json")
    asked = dict(settings, config=config, train_records=train_records,
                 eval_records=eval_records)
    if not os.path.exists(record):
        os.makedirs(out_dir, exist_ok=True)
        masked_lm, history, last_train = pretrain_masked_lm(
            config, train_records, eval_records, **settings)
        masked_lm.backbone.save_weights(weights)
        np.savez(os.path.join(out_dir, "backbone_arrays.npz"),
                 **{variable_key(i, v): v.numpy() for i, v in
                    enumerate(masked_lm.backbone.weights)})
        with open(record, "w") as f:
            json.dump({"history": history, "last_train_metrics": last_train,
                       "settings": asked}, f, indent=1)
        keras.backend.clear_session()
    with open(record) as f:
        done = json.load(f)
    if done.get("settings") != json.loads(json.dumps(asked)):
        raise ValueError(f"keras_hub peer: {out_dir} was pretrained with other settings "
                         f"({done.get('settings')}); use a new --output_dir")
    return weights, done


def build_classifier(config, spm_model, num_classes, max_seq_length, backbone_weights=None,
                     classifier_dropout=0.1):
    """keras-hub's AlbertTextClassifier, its preprocessor built from the SentencePiece
    file; the backbone from `backbone_weights` (a `.weights.h5`) or freshly drawn."""
    import keras_hub
    backbone = backbone_from_config(config)
    if backbone_weights:
        backbone.load_weights(backbone_weights)
    preprocessor = keras_hub.models.AlbertTextClassifierPreprocessor(
        keras_hub.models.AlbertTokenizer(proto=spm_model), sequence_length=max_seq_length)
    return keras_hub.models.AlbertTextClassifier(
        backbone, num_classes=num_classes, preprocessor=preprocessor,
        dropout=classifier_dropout)


def text_dataset(examples, label_ids=None):
    """x as a tuple of segments (one or two), so Keras does not read segment 2 as y."""
    import tensorflow as tf
    segments = ([e.text_a for e in examples],)
    if examples[0].text_b is not None:
        segments += ([e.text_b for e in examples],)
    if label_ids is None:
        return tf.data.Dataset.from_tensor_slices((segments,))
    return tf.data.Dataset.from_tensor_slices((segments, label_ids))


def finetune(config, spm_model, task_name, data_dir, backbone_weights, seed, learning_rate,
             steps, batch_size, max_seq_length, out_dir, eval_batch_size=64,
             classifier_dropout=0.1, jit_compile=False, mixed_precision="none"):
    """Fine-tunes once per `out_dir` (`eval_results.json`): dev accuracy of the final
    weights (and F1 of label "1" for MRPC), as our arm's results."""
    import keras
    import numpy as np
    from albert_tf.tasks.glue.processors import get_processor
    from albert_tf.training.schedules import WarmupPolyDecay
    results_path = os.path.join(out_dir, "eval_results.json")
    if os.path.exists(results_path):
        with open(results_path) as f:
            return json.load(f)
    processor = get_processor(task_name)
    labels = processor.get_labels()
    train = processor.get_examples(data_dir, "train")
    dev = processor.get_examples(data_dir, "dev")
    keras.utils.set_random_seed(seed)
    set_precision(mixed_precision)
    classifier = build_classifier(config, spm_model, len(labels), max_seq_length,
                                  backbone_weights, classifier_dropout)
    # AdamW as our fine-tuning arm (official create_optimizer): our schedule, betas
    # 0.9/0.999, epsilon 1e-6, weight decay 0.01 except LayerNorm and biases, global-norm
    # clip 1.0. Keras's AdamW has bias correction, the official one has none.
    optimizer = keras.optimizers.AdamW(
        learning_rate=WarmupPolyDecay(learning_rate, steps, max(1, steps // 10)),
        beta_1=0.9, beta_2=0.999, epsilon=1e-6, weight_decay=0.01, global_clipnorm=1.0)
    optimizer.exclude_from_weight_decay(var_names=NO_WEIGHT_DECAY)
    classifier.compile(optimizer=optimizer,
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                       metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                       jit_compile=jit_compile)
    label_ids = np.array([labels.index(e.label) for e in train], np.int32)
    # Our classifier's input: repeat, shuffle 100 examples, whole batches.
    data = (text_dataset(train, label_ids).repeat().shuffle(100, seed=seed)
            .batch(batch_size, drop_remainder=True))
    fitted = classifier.fit(data, epochs=1, steps_per_epoch=steps, verbose=2)
    logits = classifier.predict(text_dataset(dev).batch(eval_batch_size), verbose=0)
    predicted = np.argmax(logits, axis=-1)
    truth = np.array([labels.index(e.label) for e in dev])
    results = {"accuracy": float(np.mean(predicted == truth)), "eval_examples": len(dev),
               "train_loss": float(fitted.history["loss"][-1]), "global_step": steps}
    if task_name.upper() == "MRPC":
        tp = float(np.sum((predicted == 1) & (truth == 1)))
        fp, fn = float(np.sum((predicted == 1) & (truth == 0))), float(
            np.sum((predicted == 0) & (truth == 1)))
        results["f1"] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    os.makedirs(out_dir, exist_ok=True)
    with open(results_path, "w") as f:
        json.dump(results, f, indent=1)
    keras.backend.clear_session()
    return results


def variable_key(index, variable):
    """The index and path below the backbone, as "0003/token_embedding/embeddings":
    the backbone's own name changes with how many were built in the process."""
    return f"{index:04d}/" + variable.path.split("/", 1)[1]


def check_loading(config, spm_model, out_dir):
    """Every backbone variable of a classifier built from the pretraining's
    `backbone.weights.h5` equals the trained variable saved in `backbone_arrays.npz`,
    and its token embedding differs from a fresh classifier's: the weights arrive."""
    import keras
    import numpy as np
    arrays = np.load(os.path.join(out_dir, "backbone_arrays.npz"))
    keras.utils.set_random_seed(1)
    loaded = build_classifier(config, spm_model, 2, 8,
                              os.path.join(out_dir, "backbone.weights.h5")).backbone
    keras.utils.set_random_seed(1)
    fresh = build_classifier(config, spm_model, 2, 8).backbone
    keys = [variable_key(i, v) for i, v in enumerate(loaded.weights)]
    missing = sorted(set(arrays.files) ^ set(keys))
    worst = max((float(np.max(np.abs(v.numpy() - arrays[k])))
                 for k, v in zip(keys, loaded.weights) if k in arrays.files), default=0.0)
    report = {"backbone_variables": len(keys), "missing": missing,
              "max_abs_difference": worst,
              "token_embedding_differs_from_fresh": not np.array_equal(
                  loaded.token_embedding.embeddings.numpy(),
                  fresh.token_embedding.embeddings.numpy())}
    keras.backend.clear_session()
    return report
