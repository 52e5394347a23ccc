"""Exports an ALBERT checkpoint as a SavedModel that serves raw text.

The SavedModel needs only `tensorflow` and `tensorflow_text` to load (TF
Serving: a build with the tensorflow_text ops). Signatures per --model_kind
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

  saved_model_cli show --dir export/squad2/1 --all
"""

from albert_tf.cli.export_savedmodel import main, run  # noqa: F401 (the entry point lives there)

if __name__ == "__main__":
    run()
