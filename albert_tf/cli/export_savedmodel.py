r"""Exports an ALBERT checkpoint as a SavedModel that serves raw text.

The SavedModel needs only `tensorflow` and `tensorflow_text` to load (TF
Serving: a build with the tensorflow_text ops); with --text_in_graph=false only
`tensorflow` (ids-in signatures; tokenize with the preprocess export). It runs
in the session loader (TF Serving, C++, saved_model_cli) and follows TF Hub's
TF2 API for encoder and preprocess. Signatures per --model_kind
are listed in albert_tf/export/*_module.py and in the SavedModel's
assets/export_config.json. --max_seq_length defaults to the official length of the
kind, cut to the model's max_position_embeddings; a longer one is refused. Examples:

  # Encoder from a released checkpoint: embeddings for raw sentences.
  albert-export --model_kind=encoder \
    --init_checkpoint=albert_base/model.ckpt-best \
    --spm_model_file=albert_base/30k-clean.model --export_dir=export/albert_base/1

  # Fine-tuned SQuAD v2.0 model: question + context -> answer.
  albert-export --model_kind=squad --version_2_with_negative \
    --init_checkpoint=out/squad2 --spm_model_file=albert_base/30k-clean.model \
    --max_seq_length=384 --doc_stride=128 --export_dir=export/squad2/1

  # For a server without the TF Text ops: ids in, tokenize in the client.
  albert-export --model_kind=classifier --text_in_graph=false \
    --init_checkpoint=out/mnli --spm_model_file=albert_base/30k-clean.model \
    --task_name=MNLI --export_dir=export/mnli_ids/1

  # LiteRT for CPUs and phones: export/sst2_lite/model.tflite, int8 weights.
  python export_savedmodel.py --model_kind=classifier --format=tflite \
    --quantization=dynamic_int8 --init_checkpoint=out/sst2 \
    --spm_model_file=albert_base/30k-clean.model --task_name=SST-2 \
    --export_dir=export/sst2_lite

  # The same, taking strings (needs TF Text's FastSentencepieceTokenize kernel).
  python export_savedmodel.py --model_kind=classifier --format=tflite --text_in_graph \
    --quantization=dynamic_int8 --init_checkpoint=out/sst2 \
    --spm_model_file=albert_base/30k-clean.model --task_name=SST-2 \
    --export_dir=export/sst2_text

  saved_model_cli show --dir export/squad2/1 --all
"""

from albert_tf.cli.entry import holding_output, params_command
from albert_tf.export import ExportParams, export

COMMAND = "albert-export"

define_flags, main, run = params_command(
    ExportParams, holding_output(export, "export_dir"), __name__, __doc__, COMMAND)

if __name__ == "__main__":
    run()
