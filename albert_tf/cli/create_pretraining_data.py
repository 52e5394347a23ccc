"""Creates ALBERT masked-LM / sentence-order pretraining TFRecords from text.

Official flags and defaults of google-research/albert create_pretraining_data.py,
plus --num_workers, --document_window_mb, --interleave_windows and
--shuffle_buffer_size. Output is
deterministic: the same seed and inputs give byte-identical files for any
--num_workers. See albert_tf/pretraining_data/writer.py for the design.

  python create_pretraining_data.py \\
    --input_file=corpus/*.txt --output_file=out/train.tfrecord \\
    --spm_model_file=30k-clean.model --max_seq_length=128 --dupe_factor=10

--runner=DirectRunner|DataflowRunner|FlinkRunner|SparkRunner|PrismRunner runs
the same algorithm as an Apache Beam pipeline (the optional 'beam' extra;
albert_tf/pretraining_data/beam.py), writing <output_file>-SSSSS-of-NNNNN with
the same records as the local writer:

  python create_pretraining_data.py --runner=DirectRunner \\
    --beam_pipeline_options=direct_num_workers=2,direct_running_mode=multi_processing \\
    --input_file=corpus/*.txt --output_file=out/train.tfrecord ...
"""

import dataclasses
import os

from absl import app, flags, logging

from albert_tf import run_lock
from albert_tf.cli.entry import start
from albert_tf.pretraining_data import beam as pretraining_beam
from albert_tf.pretraining_data import config as pretraining_config
from albert_tf.pretraining_data import documents as pretraining_documents
from albert_tf.pretraining_data import writer as pretraining_writer
from albert_tf.tokenization import FullTokenizer
from albert_tf.settings import define_flags as define_params_flags
from albert_tf.settings import params_from_flags, required_flags, setting

FLAGS = flags.FLAGS


@dataclasses.dataclass
class DataFiles:
    """The files of a run and the official flags that are not generation settings."""

    input_file: str = setting(help="Input raw text file glob (or comma-separated globs).",
                              required=True)
    output_file: str = setting(help="Output TFRecord file (or comma-separated list of files).",
                               required=True)
    spm_model_file: str = setting(None, "SentencePiece model file.")
    vocab_file: str = setting(None, "WordPiece vocab file of the official script; not used "
                                    "with --spm_model_file (accepted for command-line "
                                    "compatibility).")
    do_lower_case: bool = setting(True, "Lower-case the input text.")
    input_file_mode: str = setting("r", "Official flag: 'r' or 'rb'; input is read as UTF-8 "
                                        "either way.", choices=["r", "rb"])
    parallel: bool = setting(False, "Official flag: process the input in parallel; here, "
                                    "--num_workers defaults to every CPU when it is set.")


# Help for `PretrainingDataConfig` fields that carry none in their metadata (a field's
# own metadata={"help": ...} wins).
FIELD_HELP = {
    "do_whole_word_mask": {"help": "Mask whole words rather than single SentencePiece "
                                   "pieces."},
    "do_permutation": {"help": "Also add permutation-LM predictions (doubles the "
                               "masked_lm_* length)."},
    "favor_shorter_ngram": {"help": "Sample n-gram lengths with p(n) proportional to 1/n "
                                    "(else reversed)."},
    "random_next_sentence": {"help": "Take negative B segments from random documents half "
                                     "of the time instead of swapping A and B."},
    "max_seq_length": {"help": "Maximum sequence length."},
    "ngram": {"help": "Maximum n-gram length (in words) to mask."},
    "max_predictions_per_seq": {"help": "Maximum number of masked LM predictions per "
                                        "sequence."},
    "random_seed": {"help": "Random seed for data generation."},
    "dupe_factor": {"help": "Number of times to duplicate the input data (with different "
                            "masks)."},
    "masked_lm_prob": {"help": "Masked LM probability."},
    "short_seq_prob": {"help": "Probability of creating sequences shorter than the maximum "
                               "length."},
    "num_workers": {"default": None,
                    "help": "Worker processes (default 1, or every CPU with --parallel); the "
                            "output does not depend on it."},
    "document_window_mb": {"help": "MB of one file per document window (a byte range cut at "
                                   "blank lines): the unit of work and memory, and the pool "
                                   "random B segments are drawn from (a smaller file is one "
                                   "window)."},
    "interleave_windows": {"help": "Windows whose dupe rounds run in turn (round 0 of each, "
                                   "then round 1, ...): a document's differently masked "
                                   "copies land this many windows' records apart, so they "
                                   "rarely share a training batch. With a Beam runner, the "
                                   "windows of one work unit."},
    "runner": {"choices": (pretraining_config.LOCAL_RUNNER,) + pretraining_config.BEAM_RUNNERS},
    "shuffle_buffer_size": {"help": "Records in the seeded output shuffle buffer (the "
                                    "official script shuffles all instances in memory)."},
}


def define_flags():
    """Defines this command's flags (`DataFiles` and `PretrainingDataConfig`)."""
    return (define_params_flags(DataFiles, module_name=__name__) +
            define_params_flags(pretraining_config.PretrainingDataConfig,
                                module_name=__name__, overrides=FIELD_HELP))


def main(argv):
    del argv
    files = params_from_flags(DataFiles)
    if not files.spm_model_file:
        raise app.UsageError("--spm_model_file is required (WordPiece --vocab_file "
                             "alone is not supported)")
    uses_beam = FLAGS.runner != pretraining_config.LOCAL_RUNNER
    if uses_beam and (FLAGS.num_workers or files.parallel):
        raise app.UsageError(
            "--num_workers/--parallel apply to --runner=local; a Beam runner's "
            "parallelism is set by --beam_pipeline_options (e.g. direct_num_workers=2)")
    if not uses_beam and (FLAGS.beam_pipeline_options or FLAGS.num_output_shards):
        raise app.UsageError("--beam_pipeline_options/--num_output_shards need a Beam "
                             "--runner (e.g. --runner=DirectRunner)")
    tokenizer = FullTokenizer(files.spm_model_file, do_lower_case=files.do_lower_case)
    config = params_from_flags(
        pretraining_config.PretrainingDataConfig,
        num_workers=FLAGS.num_workers or ((os.cpu_count() or 1) if files.parallel else 1))
    if uses_beam:  # pretraining_beam imports apache_beam only here
        try:
            pretraining_beam.import_beam()
        except ImportError as e:
            raise app.UsageError(str(e)) from e
        with run_lock.holding(files.output_file.strip(), inside=False):
            pretraining_beam.create_pretraining_data_beam(
                files.input_file, files.output_file.strip(), tokenizer, config)
        return
    input_files = pretraining_documents.expand_input_files(files.input_file)
    output_files = [f.strip() for f in files.output_file.split(",") if f.strip()]
    logging.info("reading %d input file(s): %s", len(input_files), ", ".join(input_files))
    logging.info("writing %d output file(s): %s", len(output_files), ", ".join(output_files))
    # One lock for the run, beside its first output (outputs are renamed into place).
    with run_lock.holding(output_files[0], inside=False):
        pretraining_writer.create_pretraining_data(input_files, output_files, tokenizer, config)


def run():
    """The console script `albert-pretraining-data`."""
    start(main, __doc__, __name__, define_flags, required_flags(DataFiles))


if __name__ == "__main__":
    run()
