"""Converts ALBERT weights between the official TF1, Hugging Face and keras-hub formats.

The input format is detected: an official TF1 checkpoint (prefix, or directory
with albert_config.json), our Trainer's ckpt-N or a .keras file, a transformers
directory (config.json + model.safetensors) or a keras-hub preset directory.
Every variable the output format can hold is copied bit for bit; the ones it
cannot hold (keras-hub has no sentence-order head, transformers no SQuAD 2.0
head) are named in a warning, or the conversion is refused. Examples:

  # A released tar -> transformers (AlbertForPreTraining), with its tokenizer.
  python convert_checkpoint.py --input=albert_base --output=albert_base_hf \
    --output_format=hf --spm_model_file=albert_base/30k-clean.model

  # A downloaded HF checkpoint -> official, to fine-tune with run_*.py --init_checkpoint.
  huggingface-cli download albert/albert-base-v2 --local-dir albert-base-v2
  python convert_checkpoint.py --input=albert-base-v2 --output=albert_base_v2 \
    --output_format=official
"""

from absl import app, flags, logging

from albert_tf.checkpoints.pretrained import FORMATS, convert_checkpoint

FLAGS = flags.FLAGS

flags.DEFINE_string("input", None, "Checkpoint to read, in any supported format.")
flags.DEFINE_string("output", None, "Directory to create (must not exist, or be empty).")
flags.DEFINE_enum("output_format", None, list(FORMATS), "Format to write.")
flags.DEFINE_string("spm_model_file", None,
                    "SentencePiece model to write as the output's tokenizer (default: the "
                    "one that came with the input, if any).")
flags.DEFINE_string("albert_config_file", None,
                    "albert_config.json for an official checkpoint without one beside it.")
flags.DEFINE_bool("do_lower_case", True, "HF tokenizer config: lower-case input text.")


def main(argv):
    del argv
    dropped = convert_checkpoint(FLAGS.input, FLAGS.output, FLAGS.output_format,
                                 spm_model_file=FLAGS.spm_model_file,
                                 config=FLAGS.albert_config_file,
                                 do_lower_case=FLAGS.do_lower_case)
    logging.info("Wrote %s (%s)%s", FLAGS.output, FLAGS.output_format,
                 f"; left out: {', '.join(dropped)}" if dropped else "")


if __name__ == "__main__":
    flags.mark_flags_as_required(["input", "output", "output_format"])
    app.run(main)
