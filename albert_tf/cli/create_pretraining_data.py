r"""Creates ALBERT masked-LM / sentence-order pretraining TFRecords from text.

Official flags and defaults of google-research/albert create_pretraining_data.py,
plus --num_workers, --document_window_mb, --interleave_windows and
--shuffle_buffer_size. Output is
deterministic: the same seed and inputs give byte-identical files for any
--num_workers. See albert_tf/pretraining_data/writer.py for the design.

  albert-pretraining-data \
    --input_file=corpus/*.txt --output_file=out/train.tfrecord \
    --spm_model_file=30k-clean.model --max_seq_length=128 --dupe_factor=10

--runner=DirectRunner|DataflowRunner|FlinkRunner|SparkRunner|PrismRunner runs
the same algorithm as an Apache Beam pipeline (the optional 'beam' extra;
albert_tf/pretraining_data/beam.py), writing <output_file>-SSSSS-of-NNNNN with
the same records as the local writer:

  albert-pretraining-data --runner=DirectRunner \
    --beam_pipeline_options=direct_num_workers=2,direct_running_mode=multi_processing \
    --input_file=corpus/*.txt --output_file=out/train.tfrecord ...
"""

import dataclasses
import os

from absl import flags, logging

from albert_tf import run_lock
from albert_tf.cli.entry import refuse_in_one_line, start
from albert_tf.pretraining_data import beam as pretraining_beam
from albert_tf.pretraining_data import config as pretraining_config
from albert_tf.pretraining_data import documents as pretraining_documents
from albert_tf.pretraining_data import writer as pretraining_writer
from albert_tf.tokenization import FullTokenizer
from albert_tf.settings import define_flags as define_params_flags
from albert_tf.settings import (SettingError, Vocabulary, params_from_flags, required_flags,
                                setting, setting_of)
from albert_tf.training.runtime import OFFICIAL_FLAGS_MODULE

FLAGS = flags.FLAGS


COMMAND = "albert-pretraining-data"


@dataclasses.dataclass(kw_only=True)
class DataFiles(Vocabulary):
    """The files of a run."""

    input_file: str = setting(help="Input raw text file glob (or comma-separated globs).",
                              required=True)
    output_file: str = setting(help="Output TFRecord file (or comma-separated list of files).",
                               required=True)
    spm_model_file: str = setting_of(Vocabulary, "spm_model_file", None)


@dataclasses.dataclass
class OfficialDataFlags:
    """Official create_pretraining_data.py flags that are no generation setting."""

    vocab_file: str = setting(None, "WordPiece vocab file of the official script; not used "
                                    "with --spm_model_file (accepted for command-line "
                                    "compatibility).")
    input_file_mode: str = setting("r", "Official flag: 'r' or 'rb'; input is read as UTF-8 "
                                        "either way.", choices=["r", "rb"])
    parallel: bool = setting(False, "Official flag: process the input in parallel; here, "
                                    "--num_workers defaults to every CPU when it is set.")


def define_flags():
    """Defines this command's flags (`DataFiles`, `PretrainingDataConfig`, and the
    official ones under their own `--help` heading)."""
    return (define_params_flags(DataFiles, module_name=__name__) +
            define_params_flags(pretraining_config.PretrainingDataConfig,
                                module_name=__name__) +
            define_params_flags(OfficialDataFlags, module_name=OFFICIAL_FLAGS_MODULE))


def main(argv):
    del argv
    refuse_in_one_line(COMMAND, create_pretraining_data, params_from_flags(DataFiles),
                       params_from_flags(OfficialDataFlags))


def create_pretraining_data(files, official):
    """Checks the flags, then runs the local writer or the Beam pipeline."""
    if not files.spm_model_file:
        raise SettingError("--spm_model_file is required (WordPiece --vocab_file "
                             "alone is not supported)")
    uses_beam = FLAGS.runner != pretraining_config.LOCAL_RUNNER
    if uses_beam and (FLAGS.num_workers or official.parallel):
        raise SettingError(
            "--num_workers/--parallel apply to --runner=local; a Beam runner's "
            "parallelism is set by --beam_pipeline_options (e.g. direct_num_workers=2)")
    if not uses_beam and (FLAGS.beam_pipeline_options or FLAGS.num_output_shards):
        raise SettingError("--beam_pipeline_options/--num_output_shards need a Beam "
                             "--runner (e.g. --runner=DirectRunner)")
    tokenizer = FullTokenizer(files.spm_model_file, do_lower_case=files.do_lower_case)
    config = params_from_flags(
        pretraining_config.PretrainingDataConfig,
        num_workers=FLAGS.num_workers or ((os.cpu_count() or 1) if official.parallel else 1))
    if uses_beam:  # pretraining_beam imports apache_beam only here
        try:
            pretraining_beam.import_beam()
        except ImportError as e:
            raise SettingError(str(e)) from e
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
    start(main, __doc__, __name__, define_flags, required_flags(DataFiles), COMMAND)


if __name__ == "__main__":
    run()
