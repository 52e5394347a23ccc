"""`AlbertTextPreprocessor`: raw text -> ALBERT classifier features, as a Keras layer."""

import os

import keras
import numpy as np
import tensorflow as tf

from albert_tf.export.base_module import pack_texts
from albert_tf.tokenization import TFTokenizer
from albert_tf.tokenization.spm_model import read_model_proto

SPM_ASSET = "spm.model"
TEXT_SPEC = tf.TensorSpec([None], tf.string)


class _Untracked:
    """Holds the tf.functions out of Keras' and TensorFlow's object tracking."""


def split_texts(inputs):
    """(text_a, text_b or None) of `inputs`, in the one documented form.

    Accepted: texts `[batch]` (a 1-D tf.string tensor, numpy array, pandas Series
    or list/tuple of str/bytes; one str is a batch of one); a pair as a TUPLE
    `(texts_a, texts_b)` of two equal-length such sequences; a dict with `text_a`
    and optionally `text_b`. A list of pairs (`[("a", "b"), ...]`, `[["a", "b"],
    ["c", "d"]]`) is refused rather than guessed at: give the two columns.

    Raises:
      TypeError / ValueError naming the row (see `text_rows`).
    """
    if isinstance(inputs, dict):
        if "text_a" not in inputs:
            raise ValueError(f"text inputs as a dict need a 'text_a' key, got "
                             f"{sorted(inputs)}")
        unknown = sorted(set(inputs) - {"text_a", "text_b"})
        if unknown:
            raise ValueError(f"text inputs as a dict take 'text_a' and 'text_b', got also "
                             f"{unknown}")
        text_a, text_b = inputs["text_a"], inputs.get("text_b")
    elif isinstance(inputs, tuple) and len(inputs) == 2 and not any(
            isinstance(t, (str, bytes)) for t in inputs):
        text_a, text_b = inputs
    else:
        text_a, text_b = inputs, None
    text_a = text_rows(text_a, "text_a" if text_b is not None else "texts")
    if text_b is not None:
        text_b = text_rows(text_b, "text_b")
        if _length(text_a) is not None and _length(text_b) is not None \
                and _length(text_a) != _length(text_b):
            raise ValueError(f"a pair (texts_a, texts_b) needs two equal-length sequences; "
                             f"got {_length(text_a)} and {_length(text_b)} texts")
    return text_a, text_b


def _length(texts):
    if isinstance(texts, (tf.Tensor, keras.KerasTensor)):
        return None if texts.shape.rank is None else texts.shape[0]
    return len(texts)


def text_rows(texts, name="texts"):
    """`texts` as a batch: a tensor stays as is (it must be 1-D, or a scalar of one);
    anything else becomes a numpy object array of UTF-8 bytes.

    Every row must be a str or bytes: None, NaN, numbers and nested sequences are
    refused naming the row, never scored as the text "None", "nan" or a tuple's
    repr. Bytes are kept as they are, so bytes that are not UTF-8 are dropped by
    the in-graph tokenizer, as the classifier SavedModel does on the same bytes.

    Raises:
      TypeError: a row that is not str/bytes (`texts[3] is None`).
      ValueError: a tensor or array of rank above 1.
    """
    if isinstance(texts, keras.KerasTensor):
        return texts
    if isinstance(texts, (tf.Tensor, tf.RaggedTensor)):
        if texts.shape.rank is not None and texts.shape.rank > 1:
            raise ValueError(f"{name} must be a 1-D batch of strings, got a tensor of shape "
                             f"{texts.shape}; give a pair as (texts_a, texts_b)")
        return texts
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    if hasattr(texts, "to_numpy"):  # pandas Series.
        texts = texts.to_numpy()
    if isinstance(texts, np.ndarray) and texts.ndim != 1:
        if texts.ndim == 0:
            texts = texts.reshape([1])
        else:
            raise ValueError(f"{name} must be a 1-D batch of strings, got an array of shape "
                             f"{texts.shape}; give a pair as (texts_a, texts_b)")
    if not isinstance(texts, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of str (or a pair (texts_a, texts_b)), "
                        f"got {type(texts).__name__}")
    rows = np.empty(len(texts), dtype=object)
    for row, text in enumerate(texts):
        if isinstance(text, str):
            rows[row] = text.encode("utf-8")
        elif isinstance(text, (bytes, np.bytes_)):
            rows[row] = bytes(text)
        elif isinstance(text, (list, tuple, np.ndarray)):
            raise TypeError(f"{name}[{row}] is a {type(text).__name__}, not a str: give "
                            f"pairs as two equal-length sequences (texts_a, texts_b), not a "
                            f"list of pairs")
        else:
            what = "None" if text is None else (
                "NaN" if isinstance(text, float) and text != text else
                f"a {type(text).__name__} ({text!r})")
            raise TypeError(f"{name}[{row}] is {what}, not a str: every text must be a str "
                            f"(or bytes); drop or fill missing rows first")
    return rows


def as_string_tensor(texts):
    """tf.string [batch] from a tensor, numpy array or list of str/bytes."""
    if isinstance(texts, keras.KerasTensor):  # Symbolic (functional API): as is.
        return texts
    if isinstance(texts, np.ndarray) and texts.size == 0:
        return tf.zeros([0], tf.string)
    texts = tf.convert_to_tensor(texts)
    if texts.dtype != tf.string:
        raise TypeError(f"expected texts (tf.string), got {texts.dtype}")
    if texts.shape.rank == 0:
        texts = tf.reshape(texts, [1])
    return texts


def as_text_tensors(inputs):
    """`inputs` (see `split_texts`) with lists/arrays made tf.string tensors, as Keras
    takes only tensors positionally: texts `[batch]` or a pair (text_a, text_b)."""
    text_a, text_b = split_texts(inputs)
    if text_b is None:
        return as_string_tensor(text_a)
    return as_string_tensor(text_a), as_string_tensor(text_b)


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertTextPreprocessor(keras.layers.Layer):
    """In-graph ALBERT tokenization and packing of one text or a text pair.

    Exactly the features of the fine-tuning scripts and the classifier SavedModel:
    `preprocess_text`, SentencePiece with the digit-comma rule (`TFTokenizer`), then
    `[CLS] a [SEP] (b [SEP])` with the official truncation (`export.base_module.
    pack_texts`; an empty text_b gives the single-text layout, as official).

    Inputs: see `split_texts`. Outputs: dict of int32 [batch, max_seq_length]
    `input_ids`, `input_mask`, `segment_ids`.

    The SentencePiece model is stored inside a saved `.keras` file (as an asset), so
    the file reloads anywhere.

    Args:
      spm_model_file: SentencePiece model; None only while loading from a file.
      max_seq_length: packed length in tokens, [CLS]/[SEP] included.
      do_lower_case: as the checkpoint was pretrained (True for all official ALBERTs).
    """

    def __init__(self, spm_model_file=None, max_seq_length=128, do_lower_case=True, **kwargs):
        super().__init__(**kwargs)
        if isinstance(max_seq_length, bool) or not isinstance(max_seq_length, int) \
                or max_seq_length < 3:
            raise ValueError(f"max_seq_length must be an integer >= 3, got {max_seq_length!r}")
        self.max_seq_length = max_seq_length
        self.do_lower_case = bool(do_lower_case)
        self.spm_model_file = None if spm_model_file is None else str(spm_model_file)
        self.tokenizer = None
        self._spm_model_proto = None
        if spm_model_file is not None:
            self.set_spm_model(spm_model_file)
        self.built = True

    def set_spm_model(self, spm_model_file):
        """Builds the tokenizer from a SentencePiece model file."""
        self._spm_model_proto = read_model_proto(spm_model_file)
        self.spm_model_file = str(spm_model_file)
        self.tokenizer = TFTokenizer(spm_model_file, do_lower_case=self.do_lower_case)
        # Traced once and reused by every tf.data pipeline and call: the
        # preprocessing graph holds large Unicode tables and is slow to trace.
        self._functions = _Untracked()
        self._functions.single = tf.function(self._pack, input_signature=[TEXT_SPEC],
                                             autograph=False)
        self._functions.pair = tf.function(self._pack, input_signature=[TEXT_SPEC] * 2,
                                           autograph=False)

    @property
    def spm_model_proto(self):
        """The SentencePiece model's bytes (kept in memory: a reloaded `.keras` file's
        extracted copy is gone)."""
        return self._spm_model_proto

    def preprocess(self, inputs):
        """Texts (see `split_texts`) -> features; usable in `tf.data.Dataset.map`."""
        if self.tokenizer is None:
            raise ValueError("AlbertTextPreprocessor has no SentencePiece model: pass "
                             "spm_model_file")
        text_a, text_b = split_texts(inputs)
        if text_b is None:
            return self._functions.single(as_string_tensor(text_a))
        return self._functions.pair(as_string_tensor(text_a), as_string_tensor(text_b))

    def _pack(self, text_a, text_b=None):
        return pack_texts(self.tokenizer, self.tokenizer.tokenize, text_a, text_b,
                          self.max_seq_length)

    def __call__(self, inputs, *args, **kwargs):
        return super().__call__(as_text_tensors(inputs), *args, **kwargs)

    def call(self, inputs):
        return self.preprocess(inputs)

    def compute_output_spec(self, inputs):
        spec = keras.KerasTensor((None, self.max_seq_length), dtype="int32")
        return {"input_ids": spec, "input_mask": spec, "segment_ids": spec}

    def get_config(self):
        config = super().get_config()
        config.update(spm_model_file=self.spm_model_file, max_seq_length=self.max_seq_length,
                      do_lower_case=self.do_lower_case)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        path = config.get("spm_model_file")
        if path is not None and not tf.io.gfile.exists(path):
            # Loading a .keras file elsewhere: its own copy comes in `load_assets`.
            config["spm_model_file"] = None
        return cls(**config)

    # The SentencePiece model travels inside the .keras file.
    def save_assets(self, dir_path):
        with open(os.path.join(dir_path, SPM_ASSET), "wb") as f:
            f.write(self._spm_model_proto)

    def load_assets(self, dir_path):
        self.set_spm_model(os.path.join(dir_path, SPM_ASSET))
