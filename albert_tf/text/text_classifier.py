"""`TextClassifier`: an ALBERT classifier that takes raw text, trained with `model.fit`.

    model = albert_tf.TextClassifier.from_pretrained("albert_base", num_labels=2)
    model.fit(texts, labels, epochs=3, batch_size=32)
    model.predict(["a gripping, funny film"])          # logits [1, 2]

The model is the fine-tuning scripts' `AlbertClassifier` (same weights, head and
official variable names) behind an `AlbertTextPreprocessor`, so its features and
logits are those of `run_classifier.py` for the same checkpoint and texts.
"""

import keras
import numpy as np
import tensorflow as tf

from albert_tf.checkpoints.hub import resolve_pretrained
from albert_tf.checkpoints.labels import checkpoint_directory, check_label_list, read_label_list
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.text.loading import find_spm_model, load_classifier
from albert_tf.text.preprocessor import AlbertTextPreprocessor, as_text_tensors, split_texts
from albert_tf.text.raw_text_model import RawTextModel, is_features



def _text_rank(spec):
    """Rank of the text part of a dataset element spec (0: unbatched)."""
    first = tf.nest.flatten(spec)[0]
    return first.shape.rank


@keras.saving.register_keras_serializable(package="albert_tf")
class TextClassifier(RawTextModel):
    """Raw text in, logits out: `AlbertTextPreprocessor` + `AlbertClassifier`.

    Inputs, one form (`preprocessor.split_texts`): texts `[batch]` (a sequence of
    str or bytes: list, numpy array, pandas Series, tf.string tensor), a pair as a
    tuple `(texts_a, texts_b)` of two equal-length such sequences, or a dict
    `text_a` / `text_b`; or the encoder features `input_ids`, `input_mask`,
    `segment_ids` directly. None, NaN, numbers and a list of pairs are refused
    naming the row; bytes that are not UTF-8 are dropped, as the SavedModel does.
    Output: float32 logits `[batch, num_labels]` (`[batch, 1]`: the regression value).

    `fit`, `evaluate` and `predict` take texts (with integer label ids or label_list
    strings, floats for regression; see `label_ids`) as arrays or lists, or a `tf.data.Dataset` of `(text, label)`
    (batched or not); the tokenization then runs in the input pipeline, and each
    batch keeps only up to its longest text. Without `compile`, the first `fit`
    compiles the official fine-tuning recipe (`compile_official`) for exactly the
    steps it runs (epochs x batches); a later `fit` continues that schedule (whose
    rate has decayed to 0), so call `compile_official` again to train more.

    Attributes:
      classifier: the `AlbertClassifier` (for `save_official_checkpoint`,
        `export_savedmodel --model_kind=classifier`, or the fine-tuning scripts).
      preprocessor: the `AlbertTextPreprocessor`.

    Args:
      classifier, preprocessor: as above.
      learning_rate, warmup_proportion: of the recipe `fit` compiles (official
        run_classifier default 5e-5; warmup as a fraction of the training steps).
      label_list: optional label strings, position = class id: `fit`/`evaluate`
        then take these strings as labels (see `label_ids`).
    """

    def __init__(self, classifier, preprocessor, learning_rate=5e-5, warmup_proportion=0.1,
                 label_list=None, name="text_classifier", **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(classifier, AlbertClassifier):
            raise TypeError(f"classifier must be an AlbertClassifier, got "
                            f"{type(classifier).__name__}")
        limit = classifier.albert_config.max_position_embeddings
        if preprocessor.max_seq_length > limit:
            raise ValueError(f"max_seq_length ({preprocessor.max_seq_length}) exceeds the "
                             f"model's max_position_embeddings ({limit})")
        if not 0.0 <= warmup_proportion < 1.0:
            raise ValueError(f"warmup_proportion must be in [0, 1), got {warmup_proportion}")
        self.classifier = classifier
        self.preprocessor = preprocessor
        self.learning_rate = float(learning_rate)
        self.warmup_proportion = float(warmup_proportion)
        if label_list is not None:  # else the classifier's own (from its checkpoint)
            classifier.label_list = check_label_list(label_list, classifier.num_labels,
                                                     "label_list")
        self.built = True

    @classmethod
    def from_pretrained(cls, path, num_labels, spm_model_file=None, max_seq_length=128,
                        do_lower_case=True, dropout_prob=0.1, dtype=None, label_list=None,
                        **kwargs):
        """A `TextClassifier` on a pretrained (or fine-tuned) checkpoint.

        Args:
          path: a checkpoint in any format (official, Trainer, transformers folder,
            keras-hub preset, `.keras`); see `loading.load_classifier`.
          num_labels: classes; 1 for a regression (float target, squared error).
          spm_model_file: SentencePiece model; default: the one in the checkpoint's
            folder (30k-clean.model, spiece.model, assets/tokenizer/vocabulary.spm).
          max_seq_length: texts are packed to this many tokens.
          do_lower_case: as pretrained (True for the official ALBERTs).
          dropout_prob: dropout before the head (official 0.1).
          dtype: Keras dtype policy (e.g. "mixed_bfloat16"); None: the global one.
          label_list: the label names (position = label id), carried into `.keras`,
            `save_pretrained` and exports; default: those the checkpoint carries
            (`label_list.txt` beside it, HF `id2label`) when it has `num_labels`.
          **kwargs: `TextClassifier` arguments (learning_rate, warmup_proportion).
        """
        path = resolve_pretrained(path)  # A hub id -> its local folder.
        spm_model_file = spm_model_file or find_spm_model(path)
        if spm_model_file is None:
            raise FileNotFoundError(
                f"no SentencePiece model beside {path} (looked for 30k-clean.model, "
                f"spiece.model, spm.model, assets/tokenizer/vocabulary.spm); pass "
                f"spm_model_file=")
        classifier = load_classifier(path, num_labels, dropout_prob=dropout_prob, dtype=dtype)
        if label_list is None and classifier.label_list is None and \
                not str(path).endswith(".keras"):
            label_list = read_label_list(checkpoint_directory(path))
            if label_list is not None and len(label_list) != num_labels:
                label_list = None  # Another head's labels: this one is new.
        if label_list is not None:
            classifier.label_list = check_label_list(label_list, num_labels, "label_list")
        preprocessor = AlbertTextPreprocessor(spm_model_file, max_seq_length=max_seq_length,
                                              do_lower_case=do_lower_case)
        return cls(classifier, preprocessor, **kwargs)

    @property
    def task_model(self):
        return self.classifier

    @property
    def num_labels(self):
        return self.classifier.num_labels

    @property
    def label_list(self):
        """The label names (position = label id), or None."""
        return self.classifier.label_list

    @property
    def is_regression(self):
        return self.classifier.num_labels == 1

    # Model.
    def __call__(self, inputs, *args, **kwargs):
        # Keras only takes tensors positionally: lists of str become tf.string tensors.
        if not is_features(inputs):
            inputs = as_text_tensors(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def compile_official(self, num_train_steps, learning_rate=None, warmup_proportion=None,
                         optimizer="adamw", **kwargs):
        """Compiles the official fine-tuning recipe for `num_train_steps` updates.

        AdamW as official (no bias correction, weight decay 0.01 except LayerNorm and
        biases, gradients clipped to global norm 1.0), linear warmup over
        `warmup_proportion` of the steps then linear decay to 0; softmax
        cross-entropy (squared error for regression), as `run_classifier.py`.
        **kwargs go to `compile` (e.g. `metrics`, `jit_compile`).
        """
        opt = self.official_optimizer(num_train_steps, learning_rate, warmup_proportion,
                                      optimizer)
        if self.is_regression:
            loss = keras.losses.MeanSquaredError()
            metrics = []
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        # XLA cannot compile the text ops, and trimmed batches vary in length.
        kwargs.setdefault("jit_compile", False)
        kwargs.setdefault("metrics", metrics)
        self.compile(optimizer=opt, loss=loss, **kwargs)

    # Input pipelines: tokenization runs in tf.data, outside the training step.
    def text_dataset(self, x, y=None, batch_size=None, shuffle=False, seed=None):
        """Batched `tf.data.Dataset` of (features[, labels]) from texts (see class doc)."""
        batch_size = batch_size or 32
        if isinstance(x, tf.data.Dataset):
            if y is not None:
                raise ValueError("y must be None when x is a tf.data.Dataset (of (text, "
                                 "label) elements)")
            dataset = x
            if _text_rank(dataset.element_spec) == 0:
                dataset = dataset.batch(batch_size)
        else:
            text_a, text_b = split_texts(x)
            texts = {"text_a": _as_dataset_texts(text_a)}
            if text_b is not None:
                texts["text_b"] = _as_dataset_texts(text_b)
            if y is None:
                dataset = tf.data.Dataset.from_tensor_slices(texts)
            else:
                labels = self.label_ids(y)
                if len(labels) != len(texts["text_a"]):
                    raise ValueError(f"{len(texts['text_a'])} texts but {len(labels)} labels")
                dataset = tf.data.Dataset.from_tensor_slices((texts, labels))
            if shuffle:
                dataset = dataset.shuffle(len(labels) if y is not None else 1024, seed=seed,
                                          reshuffle_each_iteration=True)
            dataset = dataset.batch(batch_size)
        return self.packed_dataset(dataset)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, validation_data=None,
            shuffle=True, steps_per_epoch=None, **kwargs):
        """`keras.Model.fit` on texts; compiles `compile_official` if not compiled."""
        dataset = self.text_dataset(x, y, batch_size, shuffle=shuffle)
        if validation_data is not None:
            validation_data = self._eval_dataset(validation_data, batch_size)
        if not self.compiled:
            steps = steps_per_epoch or int(dataset.cardinality())
            if steps <= 0:
                raise ValueError(
                    "the number of training steps is unknown (a dataset of unknown or "
                    "infinite length): pass steps_per_epoch, or call compile_official("
                    "num_train_steps=...) before fit")
            self.compile_official(num_train_steps=steps * epochs)
        # Already shuffled above (Keras does not shuffle a tf.data.Dataset).
        return super().fit(dataset, epochs=epochs, validation_data=validation_data,
                           steps_per_epoch=steps_per_epoch, shuffle=False, **kwargs)

    def _eval_dataset(self, data, batch_size):
        if isinstance(data, tf.data.Dataset):
            return self.text_dataset(data, batch_size=batch_size)
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError("validation_data must be (texts, labels) or a tf.data.Dataset")
        return self.text_dataset(data[0], data[1], batch_size)

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        """`keras.Model.evaluate` on texts and labels."""
        return super().evaluate(self.text_dataset(x, y, batch_size), **kwargs)

    def predict(self, x, batch_size=None, **kwargs):
        """Logits `[n, num_labels]` (numpy) of texts; `predict(["..."])`."""
        if isinstance(x, (str, bytes)):
            x = [x]
        if not isinstance(x, tf.data.Dataset):
            text_a, _ = split_texts(x)
            if len(text_a) == 0:
                return np.zeros([0, self.num_labels], np.float32)
        return super().predict(self.text_dataset(x, batch_size=batch_size), **kwargs)

    def label_ids(self, labels):
        """Labels -> numpy label ids (float32 values for a regression).

        Classification takes integer ids in [0, num_labels) (whole-number floats
        such as 1.0 count as integers) or, with `label_list`, the label strings;
        a fraction (0.5), NaN, None or a string outside `label_list` is refused
        naming the row, never rounded or guessed. Regression takes finite numbers.
        """
        if isinstance(labels, (str, bytes, int, float)):
            raise TypeError(f"labels must be a sequence (one per text), got {labels!r}")
        if hasattr(labels, "to_numpy"):  # pandas Series.
            labels = labels.to_numpy()
        labels = list(labels)
        if self.is_regression:
            out = np.zeros(len(labels), np.float32)
            for row, label in enumerate(labels):
                if isinstance(label, (bool, np.bool_)) or not isinstance(
                        label, (int, float, np.integer, np.floating)) or not np.isfinite(label):
                    raise ValueError(f"labels[{row}] is {label!r}: a regression label must "
                                     f"be a finite number")
                out[row] = label
            return out
        index = {label: i for i, label in enumerate(self.label_list or [])}
        out = np.zeros(len(labels), np.int32)
        for row, label in enumerate(labels):
            if isinstance(label, bytes):
                label = label.decode("utf-8", "replace")
            if isinstance(label, str):
                if label not in index:
                    known = (f"label_list {self.label_list}" if self.label_list else
                             "no label_list (pass label_list= to take string labels)")
                    raise ValueError(f"labels[{row}] is {label!r}, not in {known}")
                out[row] = index[label]
                continue
            if isinstance(label, (bool, np.bool_)) or not isinstance(
                    label, (int, float, np.integer, np.floating)) or label != label \
                    or float(label) != int(label):
                raise ValueError(f"labels[{row}] is {label!r}: a classification label must "
                                 f"be an integer class id (or a string of label_list), not a "
                                 f"fraction; for a float target build the model with "
                                 f"num_labels=1 (regression)")
            if not 0 <= int(label) < self.num_labels:
                raise ValueError(f"labels[{row}] is {label!r}: class ids must be in [0, "
                                 f"num_labels={self.num_labels})")
            out[row] = int(label)
        return out

    def get_config(self):
        return {
            "classifier": keras.saving.serialize_keras_object(self.classifier),
            "preprocessor": keras.saving.serialize_keras_object(self.preprocessor),
            "learning_rate": self.learning_rate,
            "warmup_proportion": self.warmup_proportion,
            "label_list": self.label_list,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["classifier"] = keras.saving.deserialize_keras_object(
            config["classifier"], custom_objects={"AlbertClassifier": AlbertClassifier})
        config["preprocessor"] = keras.saving.deserialize_keras_object(
            config["preprocessor"],
            custom_objects={"AlbertTextPreprocessor": AlbertTextPreprocessor})
        return cls(**config)


def _as_dataset_texts(texts):
    """Checked rows (`split_texts`) as one dtype for tf.data: an empty batch is tf.string."""
    if isinstance(texts, np.ndarray) and texts.size == 0:
        return tf.zeros([0], tf.string)
    return texts
