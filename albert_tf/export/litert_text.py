"""Raw-text signatures for LiteRT: a string in, labels or encodings out, in one `.tflite`.

The SavedModel's in-graph tokenizer (`TFTokenizer`) needs TensorFlow string and
ragged ops that LiteRT has no kernel for. This one is built so that the LiteRT
converter turns all of it into builtin ops but one, TF Text's
`TFText>FastSentencepieceTokenize`, for which TF Text ships a LiteRT kernel
(`tensorflow_text.core.pybinds.tflite_registrar`):

  1. the text goes straight into SentencePiece, with ALBERT's `preprocess_text`
     folded into the model's normalizer (`tokenization.folded_normalizer`);
  2. the digit-comma rule rewrites the few ids it applies to (141 of the official
     30k, from `tf_tokenizer.digit_comma_table`): a 2-byte row per vocabulary id,
     then gathers and a mask;
  3. packing writes each position of `[CLS] A [SEP] (B [SEP])` by gather and
     select from the flat ids and row starts (no ragged op), with the official
     truncation (`packing.truncated_lengths`) and an empty text B giving the
     single-text layout, as the SavedModel's `serving_pair`.

`LiteRTTextModule` wraps a text-free export module: its raw-text signatures
pack the texts and call that module's `tokens`, whose ids-in signatures it
keeps. What each kind's file holds:

  preprocess  serving_default (text), serving_pair (text_a, text_b)
              -> input_ids, input_mask, segment_ids [batch, max_seq_length];
              tokenize (text) -> token_ids [batch, max_tokens] (-1 padded),
              num_tokens [batch]
  classifier  serving_default, serving_pair -> the `tokens` outputs (packed only
              to the batch's longest text: padding cannot change a label);
              tokens
  encoder     serving_default, serving_pair -> sequence_output [batch,
              max_seq_length, hidden], pooled_output and the packed inputs, as
              the SavedModel's; tokens (and mlm, sop)
"""

import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from albert_tf.export.base_module import TEXT_SPEC
from albert_tf.tokenization import packing
from albert_tf.tokenization import spm_model
from albert_tf.tokenization.folded_normalizer import fold_preprocessing
from albert_tf.tokenization.tf_tokenizer import digit_comma_table

TEXT_KINDS = ("preprocess", "classifier", "encoder")
# The one op of these files that is not a LiteRT builtin; its kernel is
# `tflite_registrar.AddFastSentencepieceTokenize`.
CUSTOM_OPS = ("TFText>FastSentencepieceTokenize",)


def interpreter(model_path, num_threads=None):
    """`ai_edge_litert`'s interpreter for a raw-text file, TF Text's kernel registered.

    Needs the `ai_edge_litert` and `tensorflow_text` packages; a file without the
    custom op loads too.
    """
    from ai_edge_litert.interpreter import InterpreterWithCustomOps
    from tensorflow_text.core.pybinds import tflite_registrar

    return InterpreterWithCustomOps(
        model_path=str(model_path), num_threads=num_threads,
        custom_op_registerers=[tflite_registrar.AddFastSentencepieceTokenize])


def digit_comma_rows(sp_model):
    """The digit-comma rule as a row per rewritten id, plus a last row for every other id.

    Returns:
      (row_of int16 [vocab] (int32 past 32,766 rewritten ids): each id's row, m for
      the ids the rule leaves alone; replacements int32 [m + 1, k], padded with -1;
      lengths int32 [m + 1], 1 in the last row). m is 141 for the official 30k
      vocabulary, k 2.
    """
    splits, values = digit_comma_table(sp_model)
    lengths = np.diff(splits)
    ids = np.flatnonzero((lengths != 1) | (values[splits[:-1]] != np.arange(len(lengths))))
    width = max([int(lengths[ids].max())] if len(ids) else [1])
    replacements = np.full((len(ids) + 1, width), -1, np.int32)
    row_of = np.full(len(lengths), len(ids), np.int16 if len(ids) < 2**15 - 1 else np.int32)
    for row, i in enumerate(ids):
        replacements[row, :lengths[i]] = values[splits[i]:splits[i + 1]]
        row_of[i] = row
    return row_of, replacements, np.append(lengths[ids], 1).astype(np.int32)


class LiteRTTextTokenizer(tf.Module):
    """`FullTokenizer.encode` and the official packing in LiteRT-convertible ops.

    Args:
      spm_model_file: the SentencePiece model.
      do_lower_case: as `FullTokenizer`.

    Attributes: vocab_size, pad_id, cls_id, sep_id (Python ints).
    """

    def __init__(self, spm_model_file, do_lower_case=True, name=None):
        super().__init__(name=name)
        model_proto = spm_model.read_model_proto(spm_model_file)
        sp_model = spm_model.load_sp_model(model_proto, str(spm_model_file))
        ids = spm_model.special_token_ids(sp_model, str(spm_model_file))
        self.vocab_size = sp_model.get_piece_size()
        self.pad_id, self.cls_id, self.sep_id = ids["pad_id"], ids["cls_id"], ids["sep_id"]
        self._sentencepiece = tf_text.FastSentencepieceTokenizer(
            fold_preprocessing(model_proto, bool(do_lower_case)))
        self._row_of, self._replacements, self._replacement_lengths = \
            digit_comma_rows(sp_model)

    def tokenize(self, texts):
        """tf.string [batch] -> (ids int32 [n], row_splits int32 [batch + 1]), no specials."""
        ragged = self._sentencepiece.tokenize(texts)
        flat = tf.cast(ragged.flat_values, tf.int32)
        row_splits = tf.cast(ragged.row_splits, tf.int32)
        # Each token's row of the rule (a 2-byte table over the vocabulary).
        row = tf.cast(tf.gather(tf.constant(self._row_of), flat), tf.int32)
        hit = row < len(self._replacements) - 1
        replacements = tf.gather(tf.constant(self._replacements), row)
        expanded = tf.concat([tf.where(hit, replacements[:, 0], flat)[:, None],
                              replacements[:, 1:]], 1)
        lengths = tf.gather(tf.constant(self._replacement_lengths), row)
        keep = tf.range(self._replacements.shape[1])[None, :] < lengths[:, None]
        ends = tf.concat([[0], tf.cumsum(lengths)], 0)
        return tf.boolean_mask(expanded, keep), tf.gather(ends, row_splits)

    def tokenize_padded(self, texts):
        """-> token_ids int32 [batch, max_tokens] (-1 padded), num_tokens int32 [batch]."""
        flat, row_splits = self.tokenize(texts)
        counts = row_splits[1:] - row_splits[:-1]
        width = tf.reduce_max(tf.concat([counts, [0]], 0))
        position = tf.range(width)[None, :]
        token_ids = _segment_values(flat, row_splits[:-1][:, None] + position, -1)
        return {"token_ids": tf.where(position < counts[:, None], token_ids, -1),
                "num_tokens": counts}

    def pack(self, texts_a, texts_b, max_seq_length, to_longest=False):
        """`[CLS] A [SEP] (B [SEP])` as the SavedModel's `serving_default`/`serving_pair`.

        Args:
          texts_a: tf.string [batch]; texts_b: tf.string [batch] or None.
          max_seq_length: Python int.
          to_longest: pad only to the batch's longest packed row, not max_seq_length.

        Returns:
          dict of int32 [batch, max_seq_length or longest]: input_ids, input_mask,
          segment_ids.
        """
        flat_a, splits_a = self.tokenize(texts_a)
        count_a = (splits_a[1:] - splits_a[:-1])[:, None]
        kept_a = tf.minimum(count_a, max_seq_length - 2)
        if texts_b is None:
            has_b = tf.zeros_like(count_a, tf.bool)
            flat_b, start_b, kept_b = flat_a, splits_a[:-1][:, None], tf.zeros_like(count_a)
        else:
            flat_b, splits_b = self.tokenize(texts_b)
            count_b = (splits_b[1:] - splits_b[:-1])[:, None]
            pair_a, pair_b = packing.truncated_lengths(count_a, count_b, max_seq_length - 3)
            has_b = count_b > 0
            kept_a = tf.where(has_b, pair_a, kept_a)
            kept_b = tf.where(has_b, pair_b, 0)
            start_b = splits_b[:-1][:, None]
        lengths = kept_a + 2 + tf.where(has_b, kept_b + 1, 0)
        width = tf.reduce_max(tf.concat([lengths[:, 0], [2]], 0)) if to_longest \
            else max_seq_length
        position = tf.range(width)[None, :]
        b_start = kept_a + 2  # Position of B's first token.
        in_b = has_b & (position >= b_start) & (position < b_start + kept_b)
        ids = tf.where(
            position == 0, self.cls_id, tf.where(
                position <= kept_a, _segment_values(flat_a, splits_a[:-1][:, None] + position - 1,
                                                    self.pad_id),
                tf.where((position == kept_a + 1) | (has_b & (position == b_start + kept_b)),
                         self.sep_id,
                         tf.where(in_b, _segment_values(flat_b, start_b + position - b_start,
                                                        self.pad_id), self.pad_id))))
        mask = position < lengths
        return {"input_ids": ids, "input_mask": tf.cast(mask, tf.int32),
                "segment_ids": tf.cast(has_b & mask & (position >= b_start), tf.int32)}


def _segment_values(flat, index, pad):
    """flat[index], `pad` where index is outside [0, size(flat))."""
    padded = tf.concat([flat, [pad]], 0)
    size = tf.size(flat)
    return tf.gather(padded, tf.where((index >= 0) & (index < size), index, size))


class LiteRTTextModule(tf.Module):
    """Raw-text signatures over a text-free export module (see the module docstring).

    Args:
      model_kind: one of `TEXT_KINDS`.
      tokenizer: `LiteRTTextTokenizer`.
      max_seq_length: Python int.
      ids_module: the text-free `ExportModule` of `model_kind` (None for
        preprocess); its variables are tracked here.
    """

    def __init__(self, model_kind, tokenizer, max_seq_length, ids_module=None):
        super().__init__()
        if model_kind not in TEXT_KINDS:
            raise ValueError(f"model_kind {model_kind!r} has no raw-text LiteRT signatures "
                             f"(only {', '.join(TEXT_KINDS)})")
        self.model_kind = model_kind
        self.tokenizer = tokenizer
        self.max_seq_length = int(max_seq_length)
        self.ids_module = ids_module
        pair_spec = [TEXT_SPEC, TEXT_SPEC]
        self._signatures = {
            "serving_default": tf.function(self._serve_text, input_signature=[TEXT_SPEC],
                                           autograph=False),
            "serving_pair": tf.function(self._serve_pair, input_signature=pair_spec,
                                        autograph=False)}
        if model_kind == "preprocess":
            self._signatures["tokenize"] = tf.function(
                self._tokenize, input_signature=[TEXT_SPEC], autograph=False)

    def signature_names(self):
        """The raw-text signature names."""
        return sorted(self._signatures)

    def signatures(self, ids_signatures=()):
        """{name: concrete function}: the raw-text ones and `ids_signatures` of the
        ids module (its `serving_default` is replaced by the text one)."""
        out = {name: self.ids_module.signature(name).get_concrete_function()
               for name in ids_signatures if name not in self._signatures}
        out.update({name: f.get_concrete_function() for name, f in self._signatures.items()})
        return out

    def _run(self, inputs, single):
        if self.model_kind == "preprocess":
            return inputs
        outputs = dict(self.ids_module.signature("tokens")(**inputs))
        if self.model_kind == "encoder":
            outputs.update(inputs)
            if single:
                del outputs["segment_ids"]  # All zeros for one text.
        return outputs

    def _pack(self, text_a, text_b):
        return self.tokenizer.pack(text_a, text_b, self.max_seq_length,
                                   to_longest=self.model_kind == "classifier")

    def _serve_text(self, text):
        return self._run(self._pack(text, None), single=True)

    def _serve_pair(self, text_a, text_b):
        return self._run(self._pack(text_a, text_b), single=False)

    def _tokenize(self, text):
        return self.tokenizer.tokenize_padded(text)
