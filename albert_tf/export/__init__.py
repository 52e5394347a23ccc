"""SavedModels that serve raw text (see `exporter.export_savedmodel`).

Kinds and their signatures (details in each module's docstring):
  preprocess: serving_default, serving_pair, tokenize, tokenization_info
  encoder:    tokens, mlm, sop, serving_default, serving_pair, tokenization_info
  squad:      serving_default (question, context -> answer_text, start_char,
              end_char, score [, null_score, is_answerable]), tokens,
              tokenization_info
  classifier: serving_default, serving_pair, serving_examples, tokens,
              tokenization_info
  race:       serving_default (article, question, options), tokens,
              tokenization_info
encoder and preprocess also follow TF Hub's TF2 text API (`__call__`,
`tokenize`, `bert_pack_inputs`). With `text_in_graph=False` (not preprocess)
only the ids-in signatures exist and serving_default is `tokens`. Every
model's serving signatures run the fused encoder graph (`encoder_graph`) with the
task head on top; LiteRT files convert the Keras graph (`litert`: ids in,
builtin ops only; with `text_in_graph` the preprocess, classifier and encoder
files take strings too, through TF Text's one LiteRT kernel: `litert_text`).
"""

from albert_tf.export import litert
from albert_tf.export.exporter import MODEL_KINDS, ExportParams, export_savedmodel

__all__ = ["MODEL_KINDS", "ExportParams", "export", "export_savedmodel"]


def export(params):
    """What `albert-export` runs: the SavedModel, or with format "tflite" the LiteRT file."""
    if params.format == "tflite":
        return litert.export_litert(params)
    return export_savedmodel(params)
