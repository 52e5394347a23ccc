"""Classifier SavedModel (GLUE-style): one or two raw texts -> label or score.

Signatures (any batch size):
  serving_default: text tf.string [batch]
  serving_pair: text_a, text_b tf.string [batch]
  serving_examples: examples tf.string [batch], serialized tf.Example with
      int64 `input_ids`, `input_mask`, `segment_ids` [max_seq_length] (the
      official classifier records; `label_ids`/`is_real_example` are ignored)
  tokens: input_ids, input_mask, segment_ids int32 [batch, seq_len]
  tokenization_info: -> spm_model_file, do_lower_case, max_seq_length.
Outputs of all but tokenization_info:
  classification: logits, probabilities float32 [batch, num_labels],
      label_id int32 [batch], label tf.string [batch] (from the label list).
  regression (STS-B): value float32 [batch] (and logits [batch, 1]).

Texts go through the official packing: `[CLS] a [SEP] (b [SEP])`, the longer
text losing its last token first; an empty text_b gives the single-text
layout, as official; texts longer than max_seq_length are truncated. The
model runs each request only up to its longest text (`albert_tf.data.padding`).
With `text_in_graph=False` there are no text signatures and serving_default is
`tokens` (ids in): the SavedModel holds no TF Text op.
"""

import tensorflow as tf

from albert_tf.export.base_module import (ENCODER_INPUTS, IDS_SPEC, TEXT_SPEC, ExportModule,
                                          check_max_seq_length)


class AlbertClassifierModule(ExportModule):
    """See the module docstring.

    Args:
      model: an `AlbertClassifier`.
      tokenizer, max_seq_length, assets, text_in_graph, use_encoder_graph: as
        `ExportModule`.
      label_list: label strings, position = label id; None for regression.
      is_regression: the model predicts one float (num_labels 1).
    """

    def __init__(self, model, tokenizer, max_seq_length, assets, label_list=None,
                 is_regression=False, text_in_graph=True, use_encoder_graph=True):
        check_max_seq_length(max_seq_length, 2)
        super().__init__(tokenizer, max_seq_length, assets, model=model,
                         text_in_graph=text_in_graph, use_encoder_graph=use_encoder_graph)
        self.is_regression = bool(is_regression)
        if self.is_regression:
            if model.num_labels != 1:
                raise ValueError(f"a regression export needs num_labels 1, the model has "
                                 f"{model.num_labels}")
            self.label_list = None
        else:
            label_list = [str(label) for label in label_list]
            if len(label_list) != model.num_labels:
                raise ValueError(f"label_list has {len(label_list)} labels "
                                 f"({', '.join(label_list)}) but the model has "
                                 f"num_labels {model.num_labels}")
            self.label_list = label_list
        if self.text_in_graph:
            self.add_signature("serving_default", self._serve_text, [TEXT_SPEC])
            self.add_signature("serving_pair", self._serve_pair, [TEXT_SPEC, TEXT_SPEC])
        else:
            self.add_signature("serving_default", self._tokens, [IDS_SPEC] * 3)
        self.add_signature("serving_examples", self._serve_examples,
                           [tf.TensorSpec([None], tf.string)])
        self.add_signature("tokens", self._tokens, [IDS_SPEC] * 3)

    def _predict(self, inputs):
        logits = self.task_logits(inputs)
        if self.is_regression:
            return {"value": logits[:, 0], "logits": logits}
        label_id = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits, axis=-1),
                "label_id": label_id,
                "label": tf.gather(tf.constant(self.label_list), label_id)}

    def _serve_text(self, text):
        return self._predict(self.pack(text))

    def _serve_pair(self, text_a, text_b):
        return self._predict(self.pack(text_a, text_b))

    def _serve_examples(self, examples):
        spec = {name: tf.io.FixedLenFeature([self.max_seq_length], tf.int64)
                for name in ENCODER_INPUTS}
        parsed = tf.io.parse_example(examples, spec)
        return self._predict(self.checked({k: tf.cast(v, tf.int32) for k, v in parsed.items()},
                                          where="tf.Example feature"))

    def _tokens(self, input_ids, input_mask, segment_ids):
        return self._predict(self.checked({"input_ids": input_ids, "input_mask": input_mask,
                                           "segment_ids": segment_ids}))
