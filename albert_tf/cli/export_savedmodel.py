"""Exports an ALBERT checkpoint as a SavedModel that serves raw text.

The SavedModel needs only `tensorflow` and `tensorflow_text` to load (TF
Serving: a build with the tensorflow_text ops); with --text_in_graph=false only
`tensorflow` (ids-in signatures; tokenize with the preprocess export). It runs
in the session loader (TF Serving, C++, saved_model_cli) and follows TF Hub's
TF2 API for encoder and preprocess. Signatures per --model_kind
are listed in albert_tf/export/*_module.py and in the SavedModel's
assets/export_config.json. Examples:

  # Encoder from a released checkpoint: embeddings for raw sentences.
  python export_savedmodel.py --model_kind=encoder \
    --init_checkpoint=albert_base/model.ckpt-best \
    --spm_model_file=albert_base/30k-clean.model --export_dir=export/albert_base/1

  # Fine-tuned SQuAD v2.0 model: question + context -> answer.
  python export_savedmodel.py --model_kind=squad --version_2_with_negative \
    --init_checkpoint=out/squad2 --spm_model_file=albert_base/30k-clean.model \
    --max_seq_length=384 --doc_stride=128 --export_dir=export/squad2/1

  # For a server without the TF Text ops: ids in, tokenize in the client.
  python export_savedmodel.py --model_kind=classifier --text_in_graph=false \
    --init_checkpoint=out/mnli --spm_model_file=albert_base/30k-clean.model \
    --task_name=MNLI --export_dir=export/mnli_ids/1

  saved_model_cli show --dir export/squad2/1 --all
"""

from albert_tf.cli.entry import params_command
from albert_tf.export.exporter import MODEL_KINDS, ExportParams, export_savedmodel

# Help for `ExportParams` fields that carry none in their metadata (a field's own
# metadata={"help": ...} wins).
FIELD_HELP = {
    "model_kind": {"help": "What to export.", "choices": list(MODEL_KINDS)},
    "init_checkpoint": {"help": "Checkpoint prefix or directory, any format: official TF1 "
                                "(ours or google-research/albert), a Trainer checkpoint, a "
                                "transformers folder, a keras-hub preset or a .keras file. "
                                "Not needed for preprocess."},
    "albert_config_file": {"help": "albert_config.json (default: the checkpoint's own)."},
    "spm_model_file": {"help": "SentencePiece model (30k-clean.model)."},
    "do_lower_case": {"help": "Lower-case input text (uncased models)."},
    "export_dir": {"help": "Where the SavedModel goes (e.g. .../model/1)."},
    "max_seq_length": {"help": "Tokens per sequence, [CLS]/[SEP] included (default: 384 "
                               "for squad, 128 for preprocess (TF Hub's), 512 otherwise, as "
                               "the official scripts)."},
    "overwrite": {"help": "Replace an existing export_dir."},
    "version_2_with_negative": {"help": "SQuAD v2.0 model (can say no answer)."},
    "doc_stride": {"help": "SQuAD: tokens between window starts."},
    "max_query_length": {"help": "SQuAD: question tokens kept."},
    "max_answer_length": {"help": "SQuAD: longest answer, in tokens."},
    "n_best_size": {"help": "SQuAD v1.1: start/end logits tried per window."},
    "start_n_top": {"help": "SQuAD v2.0: starts searched by the model."},
    "end_n_top": {"help": "SQuAD v2.0: ends searched per start."},
    "null_score_diff_threshold": {"help": "SQuAD v2.0: is_answerable when the null score "
                                          "is below this."},
    "task_name": {"help": "Classifier: GLUE task whose labels to use (e.g. mnli)."},
    "label_list": {"help": "Classifier: label strings in label-id order."},
    "num_labels": {"help": "Classifier: number of labels (default: from the checkpoint; 1 "
                           "means regression)."},
    "max_qa_length": {"help": "RACE: question+option tokens kept (the last ones)."},
}


define_flags, main, run = params_command(ExportParams, export_savedmodel, __name__, __doc__,
                                         overrides=FIELD_HELP)

if __name__ == "__main__":
    run()
