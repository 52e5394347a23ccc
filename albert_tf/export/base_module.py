"""What every exported SavedModel shares: tokenizer, assets, weights, text packing.

An export is a trackable object whose signatures are `tf.function`s. It holds
the in-graph `TFTokenizer` (unless `text_in_graph=False`), the model's
`tf.Variable`s and three assets:

  assets/spm.model           the SentencePiece model
  assets/albert_config.json  the model's config (absent for preprocess-only)
  assets/export_config.json  model_kind, do_lower_case, max_seq_length, task
                             settings and the signature list

A serving signature is where untrusted input enters: every ids-in signature
(`tokens`, `mlm`, `sop`, `serving_examples`, a text-free `serving_default`)
checks its request in the graph (`check_request`) and fails naming the input.

One encoder inference path for every SavedModel export: the serving signatures
(all but the encoder's TF Hub `__call__`, which must train) run the float32
encoder as `encoder_graph.encode` (TensorFlow ops that Grappler fuses, each
weight read once) and the task model's `head_outputs` on it
(`run_encoder`, `task_logits`); `use_encoder_graph=False` (LiteRT) traces the
Keras model instead.

Loading needs only `tensorflow` and `tensorflow_text` (for the SentencePiece op);
a `text_in_graph=False` export needs only `tensorflow`.

Variables: the SavedModel tracks the `tf.Variable`s behind the Keras 3
variables, not the Keras variables or layers. A Keras 3 variable saves itself
as a fresh copy (`keras.src.backend.tensorflow.core.Variable.
_export_to_saved_model_graph`), so the SavedModel's restore op fills the
copies while the functions read the originals: the TF2 loader maps captures
through the object graph and works, but the session loader (TF Serving, the
C++ `LoadSavedModel`, `saved_model_cli run`, `tf.compat.v1.saved_model.loader`)
then fails with "Could not find variable ...". `keras.export.ExportArchive`
tracks the `tf.Variable`s its endpoints capture for the same reason; the root
here is the same kind of object (`AutoTrackable`), so that it can also carry
TF Hub's `variables` / `trainable_variables` lists.
"""

import inspect

import tensorflow as tf

from albert_tf.data import padding
from albert_tf.export import encoder_graph
from albert_tf.export.variables import tf_variables
from albert_tf.tokenization import packing

SPM_ASSET = "spm.model"
CONFIG_ASSET = "albert_config.json"
EXPORT_CONFIG_ASSET = "export_config.json"

ENCODER_INPUTS = padding.SEQUENCE_FEATURES
# TF Hub's names of the encoder inputs -> ours (the official feature names).
HUB_INPUTS = {"input_word_ids": "input_ids", "input_mask": "input_mask",
              "input_type_ids": "segment_ids"}
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


def check_request(inputs, config, where="request input"):
    """`inputs` unchanged, once an ids-in request is one the model can take.

    A gather reads id -1 as the last row of its table (and, on GPUs, an id past
    the end as zeros), so a bad request would be answered silently. Checks, in
    the graph (plain Assert ops, which the TF1 session loader, TF Serving and
    `saved_model_cli run` run too):
      `input_ids` in [0, vocab_size), `segment_ids` in [0, type_vocab_size),
      `input_mask` and `p_mask` in {0, 1}; `input_mask`, `segment_ids` and
      `p_mask` of the shape of `input_ids`; sequence length (the last axis) in
      [1, max_position_embeddings]; `mlm_positions` of the batch of `input_ids`
      and in [0, sequence length).

    Args:
      inputs: dict name -> int32 tensor, the signature's input names.
      config: the model's `AlbertConfig`.
      where: how messages name the inputs (e.g. "tf.Example feature").

    Raises (when run):
      tf.errors.InvalidArgumentError naming the input, the range and its values.
    """
    ids = inputs["input_ids"]
    asserts = []
    for name in ("input_mask", "segment_ids", "p_mask"):
        if name in inputs:
            asserts.append(tf.debugging.Assert(
                tf.reduce_all(tf.equal(tf.shape(inputs[name]), tf.shape(ids))),
                [f"{where} {name} must have the shape of input_ids; got shape",
                 tf.shape(inputs[name]), "and input_ids shape", tf.shape(ids)],
                name=f"check_{name}_shape"))
    seq_len = tf.shape(ids)[-1]
    limit = config.max_position_embeddings
    asserts.append(tf.debugging.Assert(
        tf.logical_and(seq_len >= 1, seq_len <= limit),
        [f"{where} input_ids: the sequence length (last axis) must be in [1, "
         f"max_position_embeddings={limit}]; got", seq_len], name="check_seq_len"))
    limits = {"input_ids": (config.vocab_size, f"vocab_size={config.vocab_size}"),
              "segment_ids": (config.type_vocab_size,
                              f"type_vocab_size={config.type_vocab_size}"),
              "input_mask": (2, "2) (0 or 1"),
              "p_mask": (2, "2) (0 or 1")}
    for name, (high, high_text) in limits.items():
        if name in inputs:
            asserts.append(_in_range(where, name, inputs[name], high, high_text))
    if "mlm_positions" in inputs:
        positions = inputs["mlm_positions"]
        asserts.append(tf.debugging.Assert(
            tf.equal(tf.shape(positions)[0], tf.shape(ids)[0]),
            [f"{where} mlm_positions must have the batch size of input_ids; got",
             tf.shape(positions)[0], "and", tf.shape(ids)[0]], name="check_mlm_batch"))
        asserts.append(_in_range(where, "mlm_positions", positions, seq_len,
                                 "the sequence length of input_ids"))
    with tf.control_dependencies(asserts):
        return {name: tf.identity(value) for name, value in inputs.items()}


def _in_range(where, name, values, high, high_text):
    """An Assert op: 0 <= values < high, else a message with the values' min and max."""
    smallest, largest = tf.reduce_min(values), tf.reduce_max(values)
    ok = tf.logical_or(tf.equal(tf.size(values), 0),
                       tf.logical_and(smallest >= 0, largest < high))
    return tf.debugging.Assert(
        ok, [f"{where} {name} must be in [0, {high_text}); got min", smallest, "max", largest],
        name=f"check_{name}")


def check_text_shapes(python_function, input_signature, where="request input"):
    """`python_function` with each string input refused unless of its declared shape.

    The TF2 loader calls a signature with any shape of the declared dtype (the
    session loader refuses a feed of another shape, TF2's does not), so a 2-D or
    scalar text batch met the tokenizer and failed deep inside it (DynamicStitch)
    naming no input. The rank is counted at run time (entries of the shape that
    are >= 0): `tf.rank` and Grappler fold it to the declared rank, so a check by
    `tf.rank` never fails. Each text reaches the tokenizer only through an
    identity that waits on its check, so the order does not rest on tf.function's
    automatic control dependencies.

    Raises (when run):
      tf.errors.InvalidArgumentError: "request input text must be a batch of
      strings of shape [batch]; got shape] [2 2]".
    """
    parameters = inspect.signature(python_function)
    names = list(parameters.parameters)

    def checked(*args):
        gated = []
        for name, spec, value in zip(names, input_signature, args):
            if spec.dtype != tf.string:
                gated.append(value)
                continue
            dims = spec.shape.as_list()
            expected = "[" + ", ".join("batch" if i == 0 else "any" if d is None else str(d)
                                       for i, d in enumerate(dims)) + "]"
            shape = tf.shape(value)
            rank = tf.shape(tf.where(shape >= 0))[0]
            padded = tf.concat([shape, tf.fill([len(dims)], -1)], 0)[:len(dims)]
            ok = tf.equal(rank, len(dims))
            for i, d in enumerate(dims):
                if d is not None:
                    ok = tf.logical_and(ok, tf.equal(padded[i], d))
            check = tf.debugging.Assert(
                ok, [f"{where} {name} must be a batch of strings of shape {expected}; got "
                     "shape", shape], name=f"check_{name}_shape")
            with tf.control_dependencies([check]):
                gated.append(tf.identity(value))
        return python_function(*gated)

    # The signature's input names are the wrapped function's argument names.
    checked.__signature__ = parameters
    checked.__name__ = python_function.__name__
    return checked


def pack(tokenizer, segments, max_seq_length):
    """`tokenizer.pack(segments, max_seq_length)` (`tokenization.packing`)."""
    return packing.pack_segments(segments, max_seq_length, tokenizer.cls_id,
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
    """A plain attribute holder that object tracking does not follow."""


class ExportModule(tf.__internal__.tracking.AutoTrackable):
    """Base of the exported modules.

    Args:
      tokenizer: `TFTokenizer`.
      max_seq_length: Python int, the length texts are packed to.
      assets: dict asset name -> local file path (copied into `assets/`).
      model: optional Keras model whose variables the SavedModel must hold.
      text_in_graph: False leaves the tokenizer out of the SavedModel (the
        subclasses then add only ids-in signatures).
      use_encoder_graph: the serving signatures run the encoder as
        `encoder_graph.encode` (when it `supports` the encoder: float32) and the
        model's `head_outputs` on it; False traces the Keras model. LiteRT
        exports pass False: the converter runs its own fusions, and their
        accuracy, size and speed were measured on the Keras graph.
    """

    def __init__(self, tokenizer, max_seq_length, assets, model=None, text_in_graph=True,
                 use_encoder_graph=True):
        super().__init__()
        self.text_in_graph = bool(text_in_graph)
        # Python-only state (the Keras model, the tokenizer of a text-free
        # export, the tf.functions) is kept out of the object graph: the
        # SavedModel holds the signatures' concrete functions and variables,
        # and loading it must not need Keras.
        self._functions = _Untracked()
        self._functions.model = model
        self._functions.use_encoder_graph = bool(use_encoder_graph) and model is not None \
            and encoder_graph.supports(self.encoder)
        if self.text_in_graph:
            self.tokenizer = tokenizer
        else:
            self._functions.tokenizer = tokenizer
        self.max_seq_length = int(max_seq_length)
        self.assets = {key: tf.saved_model.Asset(path) for key, path in assets.items()}
        # TF Hub's reusable SavedModel attributes (hub.KerasLayer reads them);
        # also what the session loader needs (see the module docstring).
        # `model.variables` includes the dropout seed state used by training=True.
        variables = tf_variables(model.variables) if model is not None else []
        trainable = {id(v) for v in tf_variables(model.trainable_variables)} \
            if model is not None else set()
        self.variables = variables
        self.trainable_variables = [v for v in variables if id(v) in trainable]
        self.regularization_losses = []
        # Traced once and called by every signature: the preprocessing graph
        # carries large Unicode tables, which the SavedModel then holds once.
        self._functions.preprocess = tf.function(
            tokenizer.preprocess, input_signature=[TEXT_SPEC], autograph=False)
        self._functions.tokenize = tf.function(
            self._tokenize_text, input_signature=[TEXT_SPEC], autograph=False)
        self._functions.signatures = {}
        self.add_signature("tokenization_info", self._tokenization_info, [])

    @property
    def model(self):
        """The Keras model (not part of the SavedModel's object graph)."""
        return self._functions.model

    @property
    def encoder(self):
        """The model's Keras `AlbertEncoder` (the model itself when it is one)."""
        return getattr(self.model, "encoder", self.model)

    @property
    def uses_encoder_graph(self):
        """Whether the serving signatures run `encoder_graph` (see `__init__`)."""
        return self._functions.use_encoder_graph

    def tokenizer_for_ids(self):
        """The `TFTokenizer`, whether or not it is in the graph (for special ids)."""
        return self.tokenizer if self.text_in_graph else self._functions.tokenizer

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
        """Wraps `python_function` in a tf.function exported as signature `name`
        (its string inputs checked for their shape first, `check_text_shapes`)."""
        if any(spec.dtype == tf.string for spec in input_signature):
            python_function = check_text_shapes(python_function, input_signature)
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
                "do_lower_case": tf.constant(self.tokenizer_for_ids().do_lower_case),
                "max_seq_length": tf.constant(self.max_seq_length, tf.int32)}

    def run_encoder(self, inputs):
        """The encoder at inference, as `encoder_graph.encode` or the Keras encoder.

        Args:
          inputs: dict with int32 input_ids, input_mask, segment_ids [..., seq_len];
            leading axes (RACE's [batch, choices]) are folded into rows.

        Returns:
          dict: sequence_output [rows, seq_len, hidden_size], pooled_output
          [rows, hidden_size].
        """
        rows = {k: inputs[k] if inputs[k].shape.rank == 2 else
                tf.reshape(inputs[k], [-1, tf.shape(inputs[k])[-1]]) for k in ENCODER_INPUTS}
        if self.uses_encoder_graph:
            sequence_output, pooled_output = encoder_graph.encode(
                self.encoder, *(rows[k] for k in ENCODER_INPUTS))
            return {"sequence_output": sequence_output, "pooled_output": pooled_output}
        outputs = self.encoder(rows, training=False)
        return {k: outputs[k] for k in ("sequence_output", "pooled_output")}

    def task_logits(self, inputs):
        """The task model's `logits` for `inputs`' encoder features: its
        `head_outputs` on `run_encoder` with `uses_encoder_graph`, else the Keras model.

        Only the batch's longest text is run in full: its padding columns cannot
        change the logits (`albert_tf.data.padding`).
        """
        inputs = padding.trim_padding({k: inputs[k] for k in ENCODER_INPUTS})
        if self.uses_encoder_graph:
            return self.model.head_outputs(self.run_encoder(inputs), training=False)["logits"]
        return self.model(inputs, training=False)["logits"]

    def checked(self, inputs, where="request input"):
        """`check_request(inputs)` against the model's config (ids-in signatures)."""
        return check_request(inputs, self.model.albert_config, where)

    def pack(self, texts_a, texts_b=None):
        return pack_texts(self.tokenizer, self.tokenize_text, texts_a, texts_b,
                          self.max_seq_length)
