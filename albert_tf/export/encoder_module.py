"""Encoder SavedModel: the official TF-Hub module's signatures plus raw text.

Signatures (any batch size; token inputs int32 [batch, seq_len], any seq_len up
to max_position_embeddings):
  tokens: input_ids, input_mask, segment_ids -> sequence_output
      [batch, seq_len, hidden_size], pooled_output [batch, hidden_size].
  mlm: + mlm_positions int32 [batch, P] -> mlm_logits [batch, P, vocab_size],
      sequence_output, pooled_output.
  sop: the tokens inputs -> sop_log_probs [batch, 2] (index 1 = swapped),
      sequence_output, pooled_output.
  serving_default: text tf.string [batch] -> pooled_output, sequence_output
      [batch, max_seq_length, hidden_size], input_ids, input_mask.
  serving_pair: text_a, text_b tf.string [batch] -> the same for
      `[CLS] a [SEP] b [SEP]` (plus segment_ids).
  tokenization_info: -> spm_model_file, do_lower_case, max_seq_length.

TF Hub's TF2 encoder API (https://www.tensorflow.org/hub/common_saved_model_apis/text),
so `hub.KerasLayer(export_dir, trainable=True)` and code written for TF Hub's
BERT/ALBERT encoders work unchanged:
  `loaded(inputs, training=False)`: inputs a dict of int32 [batch, seq_len]
      input_word_ids, input_mask, input_type_ids -> pooled_output
      [batch, hidden_size], sequence_output [batch, seq_len, hidden_size],
      encoder_outputs (list, every layer's output, the last = sequence_output),
      default (= pooled_output); `loaded.variables`, `loaded.trainable_variables`.

With `text_in_graph=False` there are no text signatures, and serving_default
is `tokens` (ids in): the SavedModel holds no TF Text op.

The ids-in and text signatures, `mlm` and `sop` included (the pretrainer's
`head_outputs` on it), run the float32 encoder as `encoder_graph.encode`
(`ExportModule.run_encoder`: fusable TensorFlow ops, each weight read once;
equal to the Keras model to float32 rounding); `__call__` traces the Keras
model, since TF Hub's `training=True` must run dropout and train its variables.

`mlm` and `sop` exist only when the checkpoint has the pretraining heads
(`cls/predictions`, `cls/seq_relationship`), i.e. not for a fine-tuned one.
Text handling is `preprocess_module`'s: long texts are truncated to
max_seq_length, "" gives `[CLS] [SEP]`, bytes that are not UTF-8 are dropped.
"""

import tensorflow as tf

from albert_tf.export.base_module import (HUB_INPUTS, IDS_SPEC, TEXT_SPEC, ExportModule,
                                          check_max_seq_length)
from albert_tf.export.variables import tf_variables


class AlbertEncoderModule(ExportModule):
    """See the module docstring.

    Args:
      model: an `AlbertPretrainer` (all signatures) or an `AlbertEncoder` (no
        mlm / sop).
      tokenizer, max_seq_length, assets, text_in_graph, use_encoder_graph: as
        `ExportModule` (`encoder_graph` also converts to LiteRT builtins only, but
        is not measured there).
    """

    def __init__(self, model, tokenizer, max_seq_length, assets, text_in_graph=True,
                 use_encoder_graph=True):
        check_max_seq_length(max_seq_length, 2)
        super().__init__(tokenizer, max_seq_length, assets, model=model,
                         text_in_graph=text_in_graph, use_encoder_graph=use_encoder_graph)
        self.has_pretraining_heads = hasattr(model, "masked_lm")
        # What fine-tuning through `__call__` trains (TF Hub's contract): the
        # encoder's weights, not the pretraining heads (they stay in `variables`
        # for the mlm and sop signatures).
        self.trainable_variables = tf_variables(self.encoder.trainable_variables)
        self.add_signature("tokens", self._tokens, [IDS_SPEC] * 3)
        if self.has_pretraining_heads:
            self.add_signature("mlm", self._mlm, [IDS_SPEC] * 4)
            self.add_signature("sop", self._sop, [IDS_SPEC] * 3)
        if self.text_in_graph:
            self.add_signature("serving_default", self._serve_text, [TEXT_SPEC])
            self.add_signature("serving_pair", self._serve_pair, [TEXT_SPEC, TEXT_SPEC])
        else:
            self.add_signature("serving_default", self._tokens, [IDS_SPEC] * 3)
        # Both traces are saved: hub.KerasLayer picks one by its `training`.
        specs = {name: IDS_SPEC for name in HUB_INPUTS}
        for training in (False, True):
            self.__call__.get_concrete_function(specs, training=training)

    @tf.function(autograph=False)
    def __call__(self, inputs, training=False):
        """TF Hub's encoder call; see the module docstring."""
        outputs = self.encoder({name: inputs[hub_name]
                                for hub_name, name in HUB_INPUTS.items()},
                               training=training)
        return {"pooled_output": outputs["pooled_output"],
                "sequence_output": outputs["sequence_output"],
                "encoder_outputs": list(outputs["encoder_outputs"]),
                "default": outputs["pooled_output"]}

    def _tokens(self, input_ids, input_mask, segment_ids):
        return self.run_encoder(self.checked({"input_ids": input_ids,
                                              "input_mask": input_mask,
                                              "segment_ids": segment_ids}))

    def _pretrainer(self, input_ids, input_mask, segment_ids, mlm_positions):
        inputs = self.checked({"input_ids": input_ids, "input_mask": input_mask,
                               "segment_ids": segment_ids, "mlm_positions": mlm_positions})
        positions = inputs.pop("mlm_positions")
        if self.uses_encoder_graph:
            return self.model.head_outputs(self.run_encoder(inputs), positions)
        return self.model(dict(inputs, masked_lm_positions=positions), training=False)

    def _mlm(self, input_ids, input_mask, segment_ids, mlm_positions):
        outputs = self._pretrainer(input_ids, input_mask, segment_ids, mlm_positions)
        return {k: outputs[k] for k in ("mlm_logits", "sequence_output", "pooled_output")}

    def _sop(self, input_ids, input_mask, segment_ids):
        # No masked positions: the MLM head then gathers nothing.
        no_positions = tf.zeros([tf.shape(input_ids)[0], 0], tf.int32)
        outputs = self._pretrainer(input_ids, input_mask, segment_ids, no_positions)
        return {"sop_log_probs": tf.nn.log_softmax(outputs["sop_logits"], axis=-1),
                "sequence_output": outputs["sequence_output"],
                "pooled_output": outputs["pooled_output"]}

    def _serve(self, inputs):
        outputs = self.run_encoder(inputs)
        outputs.update(inputs)
        return outputs

    def _serve_text(self, text):
        outputs = self._serve(self.pack(text))
        del outputs["segment_ids"]  # All zeros for one text.
        return outputs

    def _serve_pair(self, text_a, text_b):
        return self._serve(self.pack(text_a, text_b))
