"""RACE SavedModel: article, question and four options -> the chosen letter.

Signatures (any batch size):
  serving_default: article tf.string [batch], question tf.string [batch],
      options tf.string [batch, 4]
      -> logits, probabilities float32 [batch, 4], answer_index int32 [batch],
         answer tf.string [batch] ("A".."D").
  tokens: input_ids, input_mask, segment_ids int32 [batch, 4, seq_len]
      -> logits, probabilities, answer_index, answer.
  tokenization_info: -> spm_model_file, do_lower_case, max_seq_length.

Inputs are built as the official `race_utils` / `albert_tf.tasks.race.features`:
the question and each option are preprocessed; a question with "_" is a cloze
whose every "_" becomes the option, any other becomes "question option"; that
qa text keeps its LAST max_qa_length tokens and the article the first
max_seq_length - 3 - len(qa) tokens: `[CLS] article [SEP] qa [SEP]`. Long
articles are truncated; empty strings are allowed. The model runs each request
only up to its longest packed input (`albert_tf.data.padding`).
With `text_in_graph=False` serving_default is `tokens` (ids in): the
SavedModel then holds no TF Text op.
"""

import tensorflow as tf

from albert_tf.export.base_module import ENCODER_INPUTS, ExportModule, check_same_batch, pack
from albert_tf.tokenization.packing import keep_first, keep_last

LABELS = ("A", "B", "C", "D")
NUM_CHOICES = len(LABELS)


@tf.autograph.experimental.do_not_convert
def fill_cloze(questions, options):
    """`q.replace("_", o) if "_" in q else q + " " + o` for each question/option.

    Args:
      questions: tf.string [n]; options: tf.string [n].
    """
    parts = tf.strings.split(questions, "_")  # [n, (k)]; k == 1 without "_".
    rows = parts.value_rowids()
    last = tf.equal(tf.range(tf.size(rows, out_type=rows.dtype)) + 1,
                    tf.gather(parts.row_limits(), rows))
    glue = tf.where(last, "", tf.gather(options, rows))
    cloze = tf.strings.reduce_join(
        parts.with_flat_values(tf.strings.join([parts.flat_values, glue])), axis=1)
    return tf.where(parts.row_lengths() > 1, cloze,
                    tf.strings.join([questions, options], separator=" "))


@tf.autograph.experimental.do_not_convert
def pack_choices(tokenizer, preprocess, tokenize, article, question, options, max_seq_length,
                 max_qa_length):
    """Raw texts -> `[CLS] article [SEP] qa [SEP]` per option, as official `race_utils`.

    The one packing of the RACE SavedModel and `albert_tf.text.MultipleChoice`.

    Args:
      tokenizer: `TFTokenizer` (special ids).
      preprocess: tf.string [n] -> tf.string [n], `preprocess_text`.
      tokenize: tf.string [n] -> int32 ragged [n, (ids)], preprocessing included.
      article, question: tf.string [batch]; options: tf.string [batch, num_choices].
      max_seq_length: Python int, tokens per option with [CLS] and both [SEP]s.
      max_qa_length: Python int, qa tokens kept, from the end.

    Returns:
      dict of int32 [batch, num_choices, max_seq_length]: input_ids, input_mask,
      segment_ids.
    """
    num_choices = options.shape[-1]
    batch = tf.shape(article)[0]
    flat_options = tf.reshape(options, [-1])
    flat_questions = tf.repeat(preprocess(question), num_choices)
    qa_texts = fill_cloze(flat_questions, preprocess(flat_options))
    qa = keep_last(tokenize(qa_texts), max_qa_length)
    context = tf.gather(tokenize(article), tf.repeat(tf.range(batch), num_choices))
    context = keep_first(context, max_seq_length - 3 - qa.row_lengths())
    # Already cut to fit, so packing truncates nothing; an empty qa still packs
    # as `[CLS] article [SEP] [SEP]`, as official race_utils does.
    pair = pack(tokenizer, [context, qa], max_seq_length)
    shape = [batch, num_choices, max_seq_length]
    return {name: tf.reshape(pair[name], shape) for name in ENCODER_INPUTS}


class AlbertRaceModule(ExportModule):
    """See the module docstring.

    Args:
      model: an `AlbertMultipleChoice` with 4 choices.
      tokenizer, max_seq_length, assets, text_in_graph, use_encoder_graph: as
        `ExportModule`.
      max_qa_length: qa tokens kept, from the end (official 128).
    """

    def __init__(self, model, tokenizer, max_seq_length, assets, max_qa_length=128,
                 text_in_graph=True, use_encoder_graph=True):
        if getattr(model, "num_choices", NUM_CHOICES) != NUM_CHOICES:
            raise ValueError(f"RACE export needs a model with {NUM_CHOICES} choices, got "
                             f"{model.num_choices}")
        if not 1 <= max_qa_length <= max_seq_length - 3:
            raise ValueError(f"max_qa_length ({max_qa_length}) must be in "
                             f"[1, max_seq_length - 3 = {max_seq_length - 3}]")
        super().__init__(tokenizer, max_seq_length, assets, model=model,
                         text_in_graph=text_in_graph, use_encoder_graph=use_encoder_graph)
        self.max_qa_length = int(max_qa_length)
        ids = tf.TensorSpec([None, NUM_CHOICES, None], tf.int32)
        if self.text_in_graph:
            self.add_signature("serving_default", self._serve, [
                tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.string),
                tf.TensorSpec([None, NUM_CHOICES], tf.string)])
        else:
            self.add_signature("serving_default", self._tokens, [ids] * 3)
        self.add_signature("tokens", self._tokens, [ids] * 3)

    def build_inputs(self, article, question, options):
        """Raw texts -> int32 [batch, 4, max_seq_length] model inputs (`pack_choices`)."""
        return pack_choices(self.tokenizer, self.preprocess_text, self.tokenize_text, article,
                            question, options, self.max_seq_length, self.max_qa_length)

    def _predict(self, inputs):
        logits = self.task_logits(inputs)
        answer_index = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits, axis=-1),
                "answer_index": answer_index,
                "answer": tf.gather(tf.constant(LABELS), answer_index)}

    def _serve(self, article, question, options):
        check_same_batch(article=article, question=question, options=options)
        return self._predict(self.build_inputs(article, question, options))

    def _tokens(self, input_ids, input_mask, segment_ids):
        return self._predict(self.checked({"input_ids": input_ids, "input_mask": input_mask,
                                           "segment_ids": segment_ids}))
