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

from absl import app, flags

from albert_tf.export.exporter import MODEL_KINDS, ExportParams, export_savedmodel

FLAGS = flags.FLAGS

flags.DEFINE_enum("model_kind", None, list(MODEL_KINDS), "What to export.")
flags.DEFINE_string("init_checkpoint", None,
                    "Checkpoint prefix or directory: official TF1 format (ours or "
                    "google-research/albert), a Trainer checkpoint, or a .keras file. "
                    "Not needed for preprocess.")
flags.DEFINE_string("albert_config_file", None,
                    "albert_config.json (default: the one beside the checkpoint).")
flags.DEFINE_string("spm_model_file", None, "SentencePiece model (30k-clean.model).")
flags.DEFINE_bool("do_lower_case", True, "Lower-case input text (uncased models).")
flags.DEFINE_string("export_dir", None, "Where the SavedModel goes (e.g. .../model/1).")
flags.DEFINE_integer("max_seq_length", None,
                     "Tokens per sequence, [CLS]/[SEP] included (default: 384 for squad, "
                     "128 for preprocess (TF Hub's), 512 otherwise, as the official "
                     "scripts).")
flags.DEFINE_bool("overwrite", False, "Replace an existing export_dir.")
flags.DEFINE_bool("text_in_graph", True,
                  "Put the tokenizer in the graph (raw-text signatures; serving needs the TF "
                  "Text ops). False: ids-in signatures only, serving_default = tokens, no TF "
                  "Text op in the SavedModel (stock TF Serving); tokenize with the "
                  "preprocess export.")
# SQuAD.
flags.DEFINE_bool("version_2_with_negative", False, "SQuAD v2.0 model (can say no answer).")
flags.DEFINE_integer("doc_stride", 128, "SQuAD: tokens between window starts.")
flags.DEFINE_integer("max_query_length", 64, "SQuAD: question tokens kept.")
flags.DEFINE_integer("max_answer_length", 30, "SQuAD: longest answer, in tokens.")
flags.DEFINE_integer("n_best_size", 20, "SQuAD v1.1: start/end logits tried per window.")
flags.DEFINE_integer("start_n_top", 5, "SQuAD v2.0: starts searched by the model.")
flags.DEFINE_integer("end_n_top", 5, "SQuAD v2.0: ends searched per start.")
flags.DEFINE_float("null_score_diff_threshold", 0.0,
                   "SQuAD v2.0: is_answerable when the null score is below this.")
# Classifier.
flags.DEFINE_string("task_name", None, "Classifier: GLUE task whose labels to use (e.g. mnli).")
flags.DEFINE_list("label_list", None, "Classifier: label strings in label-id order.")
flags.DEFINE_integer("num_labels", None,
                     "Classifier: number of labels (default: from the checkpoint; 1 means "
                     "regression).")
# RACE.
flags.DEFINE_integer("max_qa_length", 128, "RACE: question+option tokens kept (the last ones).")


def main(argv):
    del argv
    export_savedmodel(ExportParams(
        model_kind=FLAGS.model_kind, export_dir=FLAGS.export_dir,
        spm_model_file=FLAGS.spm_model_file, init_checkpoint=FLAGS.init_checkpoint,
        albert_config_file=FLAGS.albert_config_file, do_lower_case=FLAGS.do_lower_case,
        max_seq_length=FLAGS.max_seq_length, overwrite=FLAGS.overwrite,
        version_2_with_negative=FLAGS.version_2_with_negative, doc_stride=FLAGS.doc_stride,
        max_query_length=FLAGS.max_query_length, max_answer_length=FLAGS.max_answer_length,
        n_best_size=FLAGS.n_best_size, start_n_top=FLAGS.start_n_top,
        end_n_top=FLAGS.end_n_top, null_score_diff_threshold=FLAGS.null_score_diff_threshold,
        task_name=FLAGS.task_name, label_list=FLAGS.label_list, num_labels=FLAGS.num_labels,
        max_qa_length=FLAGS.max_qa_length, text_in_graph=FLAGS.text_in_graph))


if __name__ == "__main__":
    flags.mark_flags_as_required(["model_kind", "spm_model_file", "export_dir"])
    app.run(main)
