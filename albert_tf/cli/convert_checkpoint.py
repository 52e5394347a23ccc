r"""Converts ALBERT weights between the official TF1, Hugging Face and keras-hub formats.

The input format is detected: an official TF1 checkpoint (prefix, or directory
with albert_config.json), our Trainer's ckpt-N or a .keras file, a transformers
directory (config.json + model.safetensors) or a keras-hub preset directory.
Every variable the output format can hold is copied bit for bit; the ones it
cannot hold (keras-hub has no sentence-order head, transformers no SQuAD 2.0
head) are named in a warning, or the conversion is refused. Examples:

  # A released tar -> transformers (AlbertForPreTraining), with its tokenizer.
  albert-convert --input=albert_base --output=albert_base_hf \
    --output_format=hf --spm_model_file=albert_base/30k-clean.model

  # A downloaded HF checkpoint -> official, to fine-tune with run_*.py --init_checkpoint.
  huggingface-cli download albert/albert-base-v2 --local-dir albert-base-v2
  albert-convert --input=albert-base-v2 --output=albert_base_v2 \
    --output_format=official
"""

import dataclasses

from absl import logging

from albert_tf.checkpoints.pretrained import FORMATS, convert_checkpoint
from albert_tf.cli.entry import holding_output, params_command
from albert_tf.settings import ModelFiles, Vocabulary, setting, setting_of

COMMAND = "albert-convert"


@dataclasses.dataclass(kw_only=True)
class ConvertParams(Vocabulary):
    """What `albert-convert` reads and writes."""

    input: str = setting(help="Checkpoint to read, in any supported format.", required=True)
    output: str = setting(help="Directory to create (must not exist, or be empty).",
                          required=True)
    output_format: str = setting(help="Format to write.", required=True,
                                 choices=list(FORMATS))
    spm_model_file: str = setting_of(
        Vocabulary, "spm_model_file", None,
        help="SentencePiece model to write as the output's tokenizer (default: the one that "
             "came with the input, if any).")
    albert_config_file: str = setting_of(
        ModelFiles, "albert_config_file", None,
        help="albert_config.json for an official checkpoint without one beside it.")


def convert(params):
    """Runs one conversion; logs what the output format could not hold."""
    dropped = convert_checkpoint(params.input, params.output, params.output_format,
                                 spm_model_file=params.spm_model_file,
                                 config=params.albert_config_file,
                                 do_lower_case=params.do_lower_case)
    logging.info("Wrote %s (%s)%s", params.output, params.output_format,
                 f"; left out: {', '.join(dropped)}" if dropped else "")
    return dropped


define_flags, main, run = params_command(ConvertParams, holding_output(convert, "output"),
                                         __name__, __doc__, COMMAND)

if __name__ == "__main__":
    run()
