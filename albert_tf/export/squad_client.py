"""The client half of a text-free SQuAD export (`--text_in_graph=false`).

A server without TF Text runs only `tokens` (ids in, the model's raw outputs
out). The client does the rest, with the same graph code as the raw-text
export, so the answers are those its `serving_default` gives on the same text:

    client = SquadClient("out/export/squad2_ids/1")      # its assets: spm model, settings
    encoded = client.encode(questions, contexts)          # windows as in training
    outputs = server_tokens(**encoded.inputs)             # e.g. TF Serving, REST
    answers = client.decode(encoded, outputs)             # answer_text, start_char, ...

`encoded.inputs` holds input_ids, input_mask, segment_ids and, for SQuAD 2.0,
the rebuilt p_mask (1 where no answer can be: question, [SEP]s, padding), int32
[windows, max_seq_length]; long contexts give several windows per question
(`doc_stride`, as in training). Needs tensorflow and tensorflow_text in the
client only.
"""

import json
import os

import numpy as np
import tensorflow as tf

from albert_tf.export.base_module import EXPORT_CONFIG_ASSET, SPM_ASSET
from albert_tf.export.squad_module import V2_OUTPUTS, AlbertSquadModule


class EncodedQuestions:
    """What `SquadClient.encode` gives: `inputs` (numpy, for the server) and the
    windows and context pieces `decode` needs."""

    def __init__(self, windows, pieces, inputs):
        self.windows, self.pieces, self.inputs = windows, pieces, inputs


class SquadClient:
    """See the module docstring.

    Args:
      export_dir: a SQuAD SavedModel (text-free or not): its assets give the
        SentencePiece model and the settings (export_config.json).
    """

    def __init__(self, export_dir):
        from albert_tf.tokenization import TFTokenizer

        assets = os.path.join(str(export_dir), "assets")
        config_path = os.path.join(assets, EXPORT_CONFIG_ASSET)
        if not os.path.isfile(config_path):
            raise FileNotFoundError(f"{config_path} does not exist: {export_dir} is not an "
                                    "albert_tf SavedModel")
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
        if config.get("model_kind") != "squad":
            raise ValueError(f"{config_path}: model_kind is {config.get('model_kind')!r}, "
                             "expected 'squad'")
        self.config = config
        spm_model_file = os.path.join(assets, SPM_ASSET)
        tokenizer = TFTokenizer(spm_model_file, do_lower_case=config["do_lower_case"])
        self.version_2_with_negative = bool(config["version_2_with_negative"])
        self._module = AlbertSquadModule(
            None, tokenizer, config["max_seq_length"], {SPM_ASSET: spm_model_file},
            version_2_with_negative=self.version_2_with_negative,
            doc_stride=config["doc_stride"], max_query_length=config["max_query_length"],
            max_answer_length=config["max_answer_length"], n_best_size=config["n_best_size"],
            null_score_diff_threshold=config.get("null_score_diff_threshold", 0.0),
            end_n_top=config.get("end_n_top"))
        self._encode = tf.function(self._module.encode, autograph=False)

    def encode(self, questions, contexts):
        """Questions and contexts (str [batch], one context per question) -> windows."""
        windows, pieces = self._encode(_strings(questions), _strings(contexts))
        names = ("input_ids", "input_mask", "segment_ids") + \
            (("p_mask",) if self.version_2_with_negative else ())
        inputs = {name: windows[name].numpy() for name in names}
        return EncodedQuestions(windows, pieces, inputs)

    def decode(self, encoded, outputs):
        """The server's `tokens` outputs for `encoded.inputs` -> dict of numpy:
        answer_text (str), start_char, end_char, score (+ null_score, is_answerable)."""
        names = V2_OUTPUTS if self.version_2_with_negative else ("start_logits", "end_logits")
        missing = [name for name in names if name not in outputs]
        if missing:
            raise ValueError(f"the server's outputs lack {', '.join(missing)} (got "
                             f"{sorted(outputs)}): is it the tokens signature of a SQuAD "
                             f"{'2.0' if self.version_2_with_negative else '1.1'} export?")
        outputs = {name: tf.convert_to_tensor(outputs[name]) for name in names}
        result = self._module.decode(encoded.windows, encoded.pieces, outputs)
        result = {name: value.numpy() for name, value in result.items()}
        result["answer_text"] = np.array([t.decode("utf-8") for t in result["answer_text"]],
                                         dtype=object)
        return result


def _strings(texts):
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    return tf.constant([t if isinstance(t, bytes) else str(t).encode("utf-8")
                        for t in texts], tf.string)
