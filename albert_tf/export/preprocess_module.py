"""Preprocessing-only SavedModel: raw text -> ALBERT model inputs.

Signatures (every one takes any batch size):
  serving_default: text tf.string [batch]
      -> input_ids, input_mask, segment_ids int32 [batch, max_seq_length]
  serving_pair: text_a, text_b tf.string [batch] -> the same, as
      `[CLS] a [SEP] b [SEP]` with the official pair truncation (the longer
      text loses its last token first); an empty text_b gives `[CLS] a [SEP]`.
  tokenize: text tf.string [batch] -> token_ids int32 [batch, max_tokens]
      (no special tokens, padded with -1) and num_tokens int32 [batch].
  tokenization_info: -> spm_model_file, do_lower_case, max_seq_length.

TF Hub's TF2 preprocessor API (https://www.tensorflow.org/hub/common_saved_model_apis/text),
for `hub.KerasLayer` and code written for TF Hub's BERT/ALBERT preprocessors:
  `loaded(text)` -> input_word_ids, input_mask, input_type_ids int32
      [batch, max_seq_length], the encoder export's `__call__` inputs.
  `loaded.tokenize(text)` -> int32 RaggedTensor [batch, (tokens)] of ids.
  `loaded.bert_pack_inputs(segments, seq_length=max_seq_length)`: a list of
      1 or 2 such RaggedTensors -> the same dict, [batch, seq_length].
      Truncation is TF Hub's round robin, which for two segments keeps the
      same tokens as the official rule (see `tokenization.packing`). Where it
      differs from serving_pair: an empty second segment still gets its
      [SEP] (`[CLS] a [SEP] [SEP]`, as TF Hub's packer), while serving_pair
      (like the official `convert_single_example`) gives `[CLS] a [SEP]`.

The ids are `FullTokenizer` ids (see `TFTokenizer`). Serving behaviour: texts
longer than max_seq_length are truncated (their last tokens dropped); "" gives
`[CLS] [SEP]`; bytes that are not UTF-8 are dropped.
"""

import tensorflow as tf

from albert_tf.export.base_module import (HUB_INPUTS, TEXT_SPEC, ExportModule,
                                          check_max_seq_length)
from albert_tf.tokenization import packing

RAGGED_IDS_SPEC = tf.RaggedTensorSpec([None, None], tf.int32, row_splits_dtype=tf.int64)


def to_hub_inputs(inputs):
    """Our model inputs (official names) -> TF Hub's names."""
    return {hub_name: inputs[name] for hub_name, name in HUB_INPUTS.items()}


class BertPackInputs(tf.__internal__.tracking.AutoTrackable):
    """TF Hub's `bert_pack_inputs` object: `(segments, seq_length=N)` -> encoder inputs.

    Args:
      default_seq_length: Python int, `seq_length` when not given.
      cls_id, sep_id, pad_id: Python ints.
    """

    def __init__(self, default_seq_length, cls_id, sep_id, pad_id):
        super().__init__()

        @tf.function(autograph=False)
        def call(segments, seq_length=default_seq_length):
            inputs = packing.pack_segments(list(segments), seq_length, cls_id, sep_id, pad_id)
            return to_hub_inputs(inputs)

        # An attribute, not a method: the default comes from the export flags.
        self.__call__ = call
        for num_segments in (1, 2):
            call.get_concrete_function([RAGGED_IDS_SPEC] * num_segments,
                                       seq_length=tf.TensorSpec([], tf.int32))


class AlbertPreprocessModule(ExportModule):
    """See the module docstring; arguments as `ExportModule`."""

    def __init__(self, tokenizer, max_seq_length, assets, text_in_graph=True):
        if not text_in_graph:
            raise ValueError("the preprocess export is the text half: it needs "
                             "text_in_graph=True")
        check_max_seq_length(max_seq_length, 2)
        super().__init__(tokenizer, max_seq_length, assets, text_in_graph=text_in_graph)
        self.add_signature("serving_default", self._serve_text, [TEXT_SPEC])
        self.add_signature("serving_pair", self._serve_pair, [TEXT_SPEC, TEXT_SPEC])
        self.add_signature("tokenize", self._tokenize, [TEXT_SPEC])
        self.bert_pack_inputs = BertPackInputs(self.max_seq_length, tokenizer.cls_id,
                                               tokenizer.sep_id, tokenizer.pad_id)
        self.__call__.get_concrete_function()
        self.tokenize.get_concrete_function()

    @tf.function(input_signature=[TEXT_SPEC], autograph=False)
    def __call__(self, text):
        """TF Hub's preprocessor call: text -> encoder inputs of max_seq_length."""
        return to_hub_inputs(self.pack(text))

    @tf.function(input_signature=[TEXT_SPEC], autograph=False)
    def tokenize(self, text):
        """TF Hub's `tokenize`: text -> int32 RaggedTensor [batch, (tokens)]."""
        return self.tokenize_text(text).with_row_splits_dtype(tf.int64)

    def _serve_text(self, text):
        return self.pack(text)

    def _serve_pair(self, text_a, text_b):
        return self.pack(text_a, text_b)

    def _tokenize(self, text):
        ids = self.tokenize_text(text)
        return {"token_ids": ids.to_tensor(default_value=-1),
                "num_tokens": tf.cast(ids.row_lengths(), tf.int32)}
