"""`QuestionAnswerer`: SQuAD question answering on raw text, in Python.

    qa = albert_tf.text.QuestionAnswerer.from_pretrained("out/squad2")  # + its spm model
    qa(["Where is the cat?"], ["The cat sat on the mat in Paris."])
    # {"answer_text": ["Paris"], "start_char": [25], "end_char": [30], "score": [...],
    #  "null_score": [...], "is_answerable": [True]}                      (v2.0 only)

It runs the SQuAD SavedModel's own `serving_default` code (`export.squad_module`)
around the Keras model: long contexts windowed with `doc_stride` as in training,
the answer chosen across windows as the official post-processing, character
offsets into the context as sent. So its answers are those of
`export_savedmodel.py --model_kind=squad` on the same text and settings.
"""

import numpy as np
import tensorflow as tf

from albert_tf.export.base_module import SPM_ASSET
from albert_tf.export.squad_module import AlbertSquadModule
from albert_tf.tokenization import TFTokenizer


class QuestionAnswerer:
    """See the module docstring.

    Args:
      model: an `AlbertSquadV1` or (SQuAD 2.0) `AlbertSquadV2`.
      spm_model_file: its SentencePiece model.
      max_seq_length, doc_stride, max_query_length, max_answer_length, n_best_size:
        the official run_squad settings, in tokens (defaults as official).
      null_score_diff_threshold: v2.0 `is_answerable` threshold on null_score.
      do_lower_case: as pretrained.
    """

    def __init__(self, model, spm_model_file, max_seq_length=384, doc_stride=128,
                 max_query_length=64, max_answer_length=30, n_best_size=20,
                 null_score_diff_threshold=0.0, do_lower_case=True):
        limit = model.albert_config.max_position_embeddings
        if max_seq_length > limit:
            raise ValueError(f"max_seq_length ({max_seq_length}) exceeds the model's "
                             f"max_position_embeddings ({limit})")
        self.model = model
        self.version_2_with_negative = hasattr(model, "start_n_top")
        self._module = AlbertSquadModule(
            model, TFTokenizer(spm_model_file, do_lower_case=do_lower_case), max_seq_length,
            {SPM_ASSET: spm_model_file}, version_2_with_negative=self.version_2_with_negative,
            doc_stride=doc_stride, max_query_length=max_query_length,
            max_answer_length=max_answer_length, n_best_size=n_best_size,
            null_score_diff_threshold=null_score_diff_threshold)

    @classmethod
    def from_pretrained(cls, path, spm_model_file=None, **kwargs):
        """A fine-tuned SQuAD checkpoint in any format `albert_tf.load_pretrained` reads."""
        from albert_tf.checkpoints.pretrained import load_pretrained
        from albert_tf.text.loading import find_spm_model

        model = load_pretrained(path)
        if type(model).__name__ not in ("AlbertSquadV1", "AlbertSquadV2"):
            raise ValueError(f"{path}: holds a {type(model).__name__}, expected a SQuAD "
                             "model (AlbertSquadV1 or AlbertSquadV2)")
        spm_model_file = spm_model_file or model.spm_model_file or find_spm_model(path)
        if spm_model_file is None:
            raise FileNotFoundError(f"no SentencePiece model beside {path}; pass "
                                    "spm_model_file=")
        return cls(model, spm_model_file, **kwargs)

    def __call__(self, questions, contexts):
        """Questions and contexts (str or lists of str, one context per question) ->
        dict of numpy [batch]: answer_text (str), start_char, end_char (code points
        of the context; -1 without an answer), score (+ null_score, is_answerable)."""
        if isinstance(questions, (str, bytes)):
            questions, contexts = [questions], [contexts]
        result = self._module.signature("serving_default")(
            question=_strings(questions), context=_strings(contexts))
        result = {name: value.numpy() for name, value in result.items()}
        result["answer_text"] = np.array([t.decode("utf-8") for t in result["answer_text"]],
                                         dtype=object)
        return result


def _strings(texts):
    return tf.constant([t if isinstance(t, bytes) else str(t).encode("utf-8")
                        for t in texts], tf.string)
