"""What every exported SavedModel shares: tokenizer, assets, weights, text packing.

An export is a `tf.Module` whose signatures are `tf.function`s. It holds the
in-graph `TFTokenizer`, the Keras model and its weights, listed explicitly
(Keras 3 keeps sublayers held in lists, like the transformer's layer groups,
out of TensorFlow's object graph), and three assets:

  assets/spm.model           the SentencePiece model
  assets/albert_config.json  the model's config (absent for preprocess-only)
  assets/export_config.json  model_kind, do_lower_case, max_seq_length, task
                             settings and the signature list

Loading needs only `tensorflow` and `tensorflow_text` (for the SentencePiece op).
"""

import tensorflow as tf

from albert_tf.data import padding
from albert_tf.export import text_packing

SPM_ASSET = "spm.model"
CONFIG_ASSET = "albert_config.json"
EXPORT_CONFIG_ASSET = "export_config.json"

ENCODER_INPUTS = padding.SEQUENCE_FEATURES
TEXT_SPEC = tf.TensorSpec([None], tf.string)
IDS_SPEC = tf.TensorSpec([None, None], tf.int32)


def check_max_seq_length(max_seq_length, num_segments):
    """Raises ValueError unless [CLS] and the [SEP]s of `num_segments` texts fit."""
    if max_seq_length < num_segments + 1:
        raise ValueError(f"max_seq_length ({max_seq_length}) must be at least "
                         f"{num_segments + 1} for {num_segments} segment(s)")


def check_same_batch(**tensors):
    """At serving time, fails with a clear message unless all inputs have one batch size."""
    names = list(tensors)
    first = tf.shape(tensors[names[0]])[0]
    for name in names[1:]:
        tf.debugging.assert_equal(
            tf.shape(tensors[name])[0], first,
            message=f"inputs {names[0]} and {name} must have the same batch size")


def pack(tokenizer, segments, max_seq_length):
    """`tokenizer.pack(segments, max_seq_length)`, faster to trace (`text_packing`)."""
    return text_packing.pack_segments(segments, max_seq_length, tokenizer.cls_id,
                                      tokenizer.sep_id, tokenizer.pad_id)


@tf.autograph.experimental.do_not_convert
def pack_texts(tokenizer, tokenize, texts_a, texts_b, max_seq_length):
    """Raw texts -> `[CLS] A [SEP] (B [SEP])` model inputs, official truncation.

    As the official `classifier_utils.convert_single_example` (`if tokens_b:`),
    a second text with no tokens (e.g. "") gives the single-text layout
    `[CLS] A [SEP]` for that row.

    Args:
      tokenizer: `TFTokenizer` (for packing).
      tokenize: function tf.string [batch] -> ragged ids, e.g. `tokenizer.tokenize`.
      texts_a: tf.string [batch]; texts_b: tf.string [batch] or None.
      max_seq_length: Python int.

    Returns:
      dict of int32 [batch, max_seq_length]: input_ids, input_mask, segment_ids.
    """
    tokens_a = tokenize(texts_a)
    single = pack(tokenizer, [tokens_a], max_seq_length)
    if texts_b is None:
        return single
    check_same_batch(text_a=texts_a, text_b=texts_b)
    tokens_b = tokenize(texts_b)
    pair = pack(tokenizer, [tokens_a, tokens_b], max_seq_length)
    has_b = tf.expand_dims(tokens_b.row_lengths() > 0, 1)
    return {name: tf.where(has_b, pair[name], single[name]) for name in pair}


class _Untracked:
    """A plain attribute holder that tf.Module does not track."""


class ExportModule(tf.Module):
    """Base of the exported modules.

    Args:
      tokenizer: `TFTokenizer`.
      max_seq_length: Python int, the length texts are packed to.
      assets: dict asset name -> local file path (copied into `assets/`).
      model: optional Keras model whose variables the SavedModel must hold.
    """

    def __init__(self, tokenizer, max_seq_length, assets, model=None, name=None):
        super().__init__(name=name)
        self.tokenizer = tokenizer
        self.max_seq_length = int(max_seq_length)
        self.assets = {key: tf.saved_model.Asset(path) for key, path in assets.items()}
        if model is not None:
            self.model = model
            # Listed explicitly: tf.saved_model only follows tf trackables, and
            # the variables inside Keras' nested layer lists must be reachable.
            self.model_variables = list(model.weights)
        # tf.functions are kept out of tf.Module's tracking: tf.saved_model.save
        # re-traces every tracked tf.function, and the signatures' concrete
        # functions are all the SavedModel needs.
        self._functions = _Untracked()
        # Traced once and called by every signature: the preprocessing graph
        # carries large Unicode tables, which the SavedModel then holds once.
        self._functions.preprocess = tf.function(
            tokenizer.preprocess, input_signature=[TEXT_SPEC], autograph=False)
        self._functions.tokenize = tf.function(
            self._tokenize_text, input_signature=[TEXT_SPEC], autograph=False)
        self._functions.signatures = {}
        self.add_signature("tokenization_info", self._tokenization_info, [])

    def preprocess_text(self, texts):
        """In-graph `preprocess_text`: tf.string [batch] -> tf.string [batch]."""
        return self._functions.preprocess(texts)

    def tokenize_text(self, texts):
        """In-graph `FullTokenizer.encode`: tf.string [batch] -> int32 ragged [batch, (n)]."""
        return self._functions.tokenize(texts)

    def _tokenize_text(self, texts):
        """`tokenizer.tokenize(texts)` with the shared preprocessing function."""
        return self.tokenizer.tokenize(self.preprocess_text(texts), preprocess=False)

    def add_signature(self, name, python_function, input_signature):
        """Wraps `python_function` in a tf.function exported as signature `name`."""
        function = tf.function(python_function, input_signature=input_signature,
                               autograph=False)
        self._functions.signatures[name] = function
        return function

    def signatures(self):
        """{signature name: concrete function} for `tf.saved_model.save`."""
        return {name: function.get_concrete_function()
                for name, function in self._functions.signatures.items()}

    def signature_names(self):
        return sorted(self._functions.signatures)

    def signature(self, name):
        """The tf.function of signature `name` (to call it in process)."""
        return self._functions.signatures[name]

    def _tokenization_info(self):
        """As the official TF-Hub module's `tokenization_info` signature."""
        return {"spm_model_file": self.assets[SPM_ASSET].asset_path,
                "do_lower_case": tf.constant(self.tokenizer.do_lower_case),
                "max_seq_length": tf.constant(self.max_seq_length, tf.int32)}

    def task_logits(self, inputs):
        """The task model's `logits` for `inputs`' encoder features.

        Only the batch's longest text is run in full: its padding columns cannot
        change the logits (`albert_tf.data.padding`).
        """
        inputs = padding.trim_padding({k: inputs[k] for k in ENCODER_INPUTS})
        return self.model(inputs, training=False)["logits"]

    def pack(self, texts_a, texts_b=None):
        return pack_texts(self.tokenizer, self.tokenize_text, texts_a, texts_b,
                          self.max_seq_length)
