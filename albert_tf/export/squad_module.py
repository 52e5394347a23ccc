"""SQuAD SavedModel: question and context strings -> answer text and offsets.

Signatures (any batch size; one context per question):
  serving_default: question, context tf.string [batch]
      -> answer_text tf.string [batch]; start_char, end_char int32 [batch]
         with `context[start_char:end_char] == answer_text` (Python code
         points of the context, after dropping bytes that are not UTF-8);
         score float32 [batch] (start + end logit for v1.1, start + end log
         probability for v2.0).
      v2.0 adds null_score float32 [batch] (the smallest no-answer logit over
         the question's windows, official "null odds"; 1e6, as official, for a
         context without tokens) and is_answerable bool [batch] = a span with
         non-empty text was found and null_score < null_score_diff_threshold
         (official scoring counts an empty answer as no answer).
      answer_text is always the best span (for v2.0 as well; read
      is_answerable to decide). Without any valid span (e.g. an empty context)
      it is "" with start_char = end_char = -1 and score -inf (the Python
      post-processing writes the official placeholder "empty" for v1.1 there).
  tokens: input_ids, input_mask, segment_ids (+ p_mask for v2.0) int32
      [batch, seq_len] -> the model's raw outputs (v1.1 start_logits,
      end_logits; v2.0 start_top_log_probs, start_top_index,
      end_top_log_probs, end_top_index, cls_logits).
  tokenization_info: -> spm_model_file, do_lower_case, max_seq_length.

Long contexts are windowed in the graph exactly as in training and
prediction (`squad_windows`), every window goes through the model, and the
answer is chosen across windows as the Python post-processing does
(`squad_answers`); character offsets come from `char_offsets`. The question is
cut to max_query_length tokens.

With `text_in_graph=False` there is no text signature and serving_default is
`tokens` (ids in; windowing and answer selection are then the client's, e.g.
`albert_tf.tasks.squad.features` and `squad_postprocess`): the SavedModel holds
no TF Text op.
"""

import tensorflow as tf

from albert_tf.export.base_module import IDS_SPEC, TEXT_SPEC, ExportModule, check_same_batch
from albert_tf.export.char_offsets import PieceOffsets
from albert_tf.export.squad_answers import answer_text, best_spans, v1_candidates, v2_candidates
from albert_tf.export.squad_windows import squad_windows

ENCODER_INPUTS = ("input_ids", "input_mask", "segment_ids")
V2_OUTPUTS = ("start_top_log_probs", "start_top_index", "end_top_log_probs",
              "end_top_index", "cls_logits")


class AlbertSquadModule(ExportModule):
    """See the module docstring.

    Args:
      model: `AlbertSquadV1` or (version_2_with_negative) `AlbertSquadV2`.
      tokenizer, max_seq_length, assets, text_in_graph, use_encoder_graph: as
        `ExportModule`.
      version_2_with_negative: SQuAD v2.0 model and outputs.
      doc_stride, max_query_length, max_answer_length, n_best_size: official
        settings, in tokens (n_best_size: v1.1 starts/ends tried per window).
      null_score_diff_threshold: v2.0 is_answerable threshold on null_score.
    """

    def __init__(self, model, tokenizer, max_seq_length, assets, version_2_with_negative=False,
                 doc_stride=128, max_query_length=64, max_answer_length=30, n_best_size=20,
                 null_score_diff_threshold=0.0, text_in_graph=True, end_n_top=None,
                 use_encoder_graph=True):
        if max_seq_length <= max_query_length + 3:
            raise ValueError(f"max_seq_length ({max_seq_length}) must be greater than "
                             f"max_query_length ({max_query_length}) + 3")
        for field, value in (("doc_stride", doc_stride), ("max_query_length", max_query_length),
                             ("max_answer_length", max_answer_length),
                             ("n_best_size", n_best_size)):
            if value < 1:
                raise ValueError(f"{field} must be at least 1, got {value}")
        if n_best_size > max_seq_length:
            raise ValueError(f"n_best_size ({n_best_size}) must not exceed max_seq_length "
                             f"({max_seq_length})")
        if model is not None:  # None: the client half only (`squad_client`).
            is_v2 = hasattr(model, "start_n_top")
            if is_v2 != bool(version_2_with_negative):
                raise ValueError(f"version_2_with_negative={version_2_with_negative} but "
                                 f"the model is {type(model).__name__}")
            end_n_top = model.end_n_top if is_v2 else None
        if version_2_with_negative and not end_n_top:
            raise ValueError("a SQuAD 2.0 client needs end_n_top (export_config.json)")
        self.end_n_top = end_n_top
        super().__init__(tokenizer, max_seq_length, assets, model=model,
                         text_in_graph=text_in_graph, use_encoder_graph=use_encoder_graph)
        self.version_2_with_negative = bool(version_2_with_negative)
        self.doc_stride = int(doc_stride)
        self.max_query_length = int(max_query_length)
        self.max_answer_length = int(max_answer_length)
        self.n_best_size = int(n_best_size)
        self.null_score_diff_threshold = float(null_score_diff_threshold)
        if self.version_2_with_negative:
            tokens, specs = self._tokens_v2, [IDS_SPEC] * 4
        else:
            tokens, specs = self._tokens_v1, [IDS_SPEC] * 3
        if self.text_in_graph:
            self.piece_offsets = PieceOffsets(tokenizer, self.preprocess_text)
            self.add_signature("serving_default", self._serve, [TEXT_SPEC, TEXT_SPEC])
        else:
            self.add_signature("serving_default", tokens, specs)
        self.add_signature("tokens", tokens, specs)

    def _run_model(self, inputs):
        if self.uses_encoder_graph:
            p_mask = (inputs["p_mask"],) if self.version_2_with_negative else ()
            outputs = self.model.head_outputs(self.run_encoder(inputs), *p_mask,
                                              training=False)
        else:
            names = ENCODER_INPUTS + (("p_mask",) if self.version_2_with_negative else ())
            outputs = self.model({k: inputs[k] for k in names}, training=False)
        keys = V2_OUTPUTS if self.version_2_with_negative else ("start_logits", "end_logits")
        return {k: outputs[k] for k in keys}

    def _tokens_v1(self, input_ids, input_mask, segment_ids):
        return self._run_model(self.checked({"input_ids": input_ids, "input_mask": input_mask,
                                             "segment_ids": segment_ids}))

    def _tokens_v2(self, input_ids, input_mask, segment_ids, p_mask):
        return self._run_model(self.checked({"input_ids": input_ids, "input_mask": input_mask,
                                             "segment_ids": segment_ids, "p_mask": p_mask}))

    def _serve(self, question, context):
        windows, pieces = self.encode(question, context)
        return self.decode(windows, pieces, self._run_model(windows))

    def encode(self, question, context):
        """The text half before the model: (windows, pieces).

        windows: see `squad_windows` (the model inputs of every window: input_ids,
          input_mask, segment_ids, p_mask [W, max_seq_length]; example_index [W]);
        pieces: see `PieceOffsets` (the context pieces and their character spans).
        """
        check_same_batch(question=question, context=context)
        tokenizer = self.tokenizer
        query_ids = self.tokenize_text(question)[:, :self.max_query_length]
        pieces = self.piece_offsets(context)
        windows = squad_windows(query_ids, pieces["ids"], self.max_seq_length,
                                self.doc_stride, tokenizer.cls_id, tokenizer.sep_id,
                                tokenizer.pad_id)
        windows["num_examples"] = tf.shape(question, out_type=tf.int64)[0]
        return windows, pieces

    def decode(self, windows, pieces, outputs):
        """The text half after the model: the `tokens` outputs of every window of
        `encode` -> the serving_default outputs (answer_text, start_char, ...)."""
        num_examples = windows["num_examples"]
        if self.version_2_with_negative:
            candidates = v2_candidates(outputs, self.end_n_top)
        else:
            candidates = v1_candidates(outputs["start_logits"], outputs["end_logits"],
                                       self.n_best_size)
        spans = best_spans(windows, *candidates, self.max_answer_length, num_examples)

        def char_of(token, chars):
            flat = tf.concat([chars.flat_values, [0]], 0)
            index = tf.where(spans["has_answer"], chars.row_starts() + token,
                             tf.size(chars.flat_values, out_type=tf.int64))
            return tf.gather(flat, index)

        text, start, end = answer_text(
            pieces["texts"], char_of(spans["start_token"], pieces["start_chars"]),
            char_of(spans["end_token"], pieces["end_chars"]), spans["has_answer"])
        result = {"answer_text": text, "start_char": start, "end_char": end,
                  "score": tf.cast(spans["score"], tf.float32)}
        if self.version_2_with_negative:
            null_score = tf.math.unsorted_segment_min(
                outputs["cls_logits"], windows["example_index"], num_examples)
            # Official: a context without tokens makes no window, so its null odds
            # keep their starting value, 1e6.
            has_context = pieces["ids"].row_lengths() > 0
            null_score = tf.where(has_context, null_score, 1e6)
            result["null_score"] = null_score
            result["is_answerable"] = (spans["has_answer"] & (tf.strings.length(text) > 0)
                                       & (null_score < self.null_score_diff_threshold))
        return result
