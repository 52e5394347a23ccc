"""In-graph ALBERT tokenizer: preprocessing, SentencePiece, digit-comma rule, packing."""

import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from albert_tf.tokenization import encoding
from albert_tf.tokenization import packing
from albert_tf.tokenization import spm_model
from albert_tf.tokenization import unicode_tables
from albert_tf.tokenization.tf_preprocess import preprocess_text_graph


def digit_comma_table(sp_model, spm_model_file="<model_proto>"):
    """Id-level form of the digit-comma rule: what each vocabulary id becomes.

    The rule only looks at the piece string, and an unknown piece never ends in
    "," (the comma is in every ALBERT vocabulary), so it is a fixed map from
    ids to id sequences, computed here with the Python rule itself.

    Returns:
      (row_splits int64 [vocab_size + 1], values int32 [n]) of a ragged table;
      row i is [i] unless piece i ends in "<digit>,".

    Raises:
      ValueError if "," is not a piece: then an unknown span such as "\u0663,"
      could end in a comma and the rule would need the surface text.
    """
    comma_id = sp_model.piece_to_id(",")
    if sp_model.id_to_piece(comma_id) != ",":
        raise ValueError(f"{spm_model_file}: the in-graph tokenizer needs \",\" in "
                         f"the vocabulary (for ALBERT's digit-comma rule)")
    splits, values = [0], []
    for i in range(sp_model.get_piece_size()):
        piece = sp_model.id_to_piece(i)
        if encoding.splits_trailing_comma(piece) and not sp_model.is_control(i):
            values.extend(sp_model.piece_to_id(p)
                          for p in encoding.split_trailing_comma(sp_model, piece))
        else:
            values.append(i)
        splits.append(len(values))
    return np.array(splits, np.int64), np.array(values, np.int32)


class TFTokenizer(tf.Module):
    """ALBERT tokenizer as TensorFlow ops, usable in tf.data and SavedModels.

    `tokenizer(texts)` gives `FullTokenizer(...).encode(text)` for each text:
    preprocessing with this Python's Unicode tables (`tf_preprocess`),
    SentencePiece through `tensorflow_text.FastSentencepieceTokenizer`, then the
    digit-comma rule as an id-level table. A SavedModel that contains it needs
    only `tensorflow` and `tensorflow_text` to load.

    Known difference, score ties only: the `sentencepiece` package's Viterbi
    compares each candidate's score in double precision against the float32
    score stored so far, and charges an unknown character once; the fast
    tensorflow_text kernel compares float32 sums and charges an unknown
    character once per UTF-8 byte. They can disagree only when two
    segmentations score the same up to float32 rounding, e.g. "5555" after an
    unknown character: "555"+"5" vs "5"+"555". (The older
    `tensorflow_text.SentencepieceTokenizer` kernel, sentencepiece 0.1.x,
    breaks such ties differently again, already for "eee".) None of the
    177,575 distinct texts of the shared WikiText-2, SQuAD, RACE and GLUE
    files hits one. Everything before SentencePiece, and the digit-comma rule,
    is exact.

    Attributes:
      do_lower_case: bool.
      vocab_size, pad_id, unk_id, cls_id, sep_id, mask_id: Python ints.
    """

    def __init__(self, spm_model_file, do_lower_case=True, require_special_tokens=True,
                 name=None):
        super().__init__(name=name)
        self.spm_model_file = str(spm_model_file)
        self.do_lower_case = bool(do_lower_case)
        model_proto = spm_model.read_model_proto(self.spm_model_file)
        sp_model = spm_model.load_sp_model(model_proto, self.spm_model_file)
        ids = spm_model.special_token_ids(sp_model, self.spm_model_file,
                                          require_special_tokens)
        self.vocab_size = sp_model.get_piece_size()
        self.pad_id = ids["pad_id"]
        self.unk_id = ids["unk_id"]
        self.cls_id = ids["cls_id"]
        self.sep_id = ids["sep_id"]
        self.mask_id = ids["mask_id"]
        self._sentencepiece = tf_text.FastSentencepieceTokenizer(model_proto)
        self._digit_comma_splits, self._digit_comma_values = digit_comma_table(
            sp_model, self.spm_model_file)
        # Build the Unicode tables now rather than at the first trace.
        unicode_tables.whitespace_class()
        unicode_tables.decomposition_table()
        if self.do_lower_case:
            unicode_tables.lower_table()
            unicode_tables.final_sigma_tables()

    @tf.autograph.experimental.do_not_convert
    def __call__(self, texts):
        return self.tokenize(texts)

    @tf.autograph.experimental.do_not_convert
    def preprocess(self, texts):
        """tf.string [batch] -> tf.string [batch], `preprocess_text(lower=do_lower_case)`."""
        return preprocess_text_graph(_check_texts(texts), lower=self.do_lower_case)

    @tf.autograph.experimental.do_not_convert
    def tokenize(self, texts, preprocess=True):
        """tf.string [batch] -> int32 RaggedTensor [batch, (ids)], no special tokens.

        With `preprocess=False` the texts (already preprocessed) go to
        SentencePiece as they are, like `FullTokenizer.encode(text, preprocess=False)`.
        """
        texts = _check_texts(texts)
        if preprocess:
            texts = preprocess_text_graph(texts, lower=self.do_lower_case)
        ids = self._sentencepiece.tokenize(texts)
        ids = tf.cast(ids, tf.int32).with_row_splits_dtype(tf.int64)
        table = tf.RaggedTensor.from_row_splits(
            tf.constant(self._digit_comma_values),
            tf.constant(self._digit_comma_splits), validate=False)
        per_id = tf.gather(table, ids.flat_values)
        return ids.with_flat_values(per_id).merge_dims(1, 2)

    @tf.autograph.experimental.do_not_convert
    def pack(self, segments, max_seq_length):
        """[CLS] A [SEP] (B [SEP]) with official truncation; see `packing.pack_segments`."""
        if self.cls_id is None or self.sep_id is None:
            raise ValueError(f"{self.spm_model_file}: pack needs [CLS] and [SEP] pieces")
        return packing.pack_segments(segments, max_seq_length, self.cls_id,
                                     self.sep_id, self.pad_id)


def _check_texts(texts):
    texts = tf.convert_to_tensor(texts)
    if texts.dtype != tf.string:
        raise TypeError(f"TFTokenizer expects tf.string texts, got {texts.dtype}")
    if texts.shape.rank is not None and texts.shape.rank != 1:
        raise ValueError(f"TFTokenizer expects texts of shape [batch], got {texts.shape}")
    return texts
