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

The ids are `FullTokenizer` ids (see `TFTokenizer`). Serving behaviour: texts
longer than max_seq_length are truncated (their last tokens dropped); "" gives
`[CLS] [SEP]`; bytes that are not UTF-8 are dropped.
"""

import tensorflow as tf

from albert_tf.export.base_module import TEXT_SPEC, ExportModule, check_max_seq_length


class AlbertPreprocessModule(ExportModule):
    """See the module docstring; arguments as `ExportModule`."""

    def __init__(self, tokenizer, max_seq_length, assets, name=None):
        check_max_seq_length(max_seq_length, 2)
        super().__init__(tokenizer, max_seq_length, assets, name=name)
        self.add_signature("serving_default", self._serve_text, [TEXT_SPEC])
        self.add_signature("serving_pair", self._serve_pair, [TEXT_SPEC, TEXT_SPEC])
        self.add_signature("tokenize", self._tokenize, [TEXT_SPEC])

    def _serve_text(self, text):
        return self.pack(text)

    def _serve_pair(self, text_a, text_b):
        return self.pack(text_a, text_b)

    def _tokenize(self, text):
        ids = self.tokenize_text(text)
        return {"token_ids": ids.to_tensor(default_value=-1),
                "num_tokens": tf.cast(ids.row_lengths(), tf.int32)}
