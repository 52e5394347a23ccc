"""Creates ALBERT masked-LM / sentence-order pretraining TFRecords from text.

Official flags and defaults of google-research/albert create_pretraining_data.py,
plus --num_workers, --document_window_mb, --interleave_windows and
--shuffle_buffer_size. Output is
deterministic: the same seed and inputs give byte-identical files for any
--num_workers. See albert_tf/data/pretraining_writer.py for the design.

  python create_pretraining_data.py \\
    --input_file=corpus/*.txt --output_file=out/train.tfrecord \\
    --spm_model_file=30k-clean.model --max_seq_length=128 --dupe_factor=10

--runner=DirectRunner|DataflowRunner|FlinkRunner|SparkRunner|PrismRunner runs
the same algorithm as an Apache Beam pipeline (the optional 'beam' extra;
albert_tf/data/pretraining_beam.py), writing <output_file>-SSSSS-of-NNNNN with
the same records as the local writer:

  python create_pretraining_data.py --runner=DirectRunner \\
    --beam_pipeline_options=direct_num_workers=2,direct_running_mode=multi_processing \\
    --input_file=corpus/*.txt --output_file=out/train.tfrecord ...
"""

import dataclasses
import os

from absl import app
from absl import flags
from absl import logging

from albert_tf.data import pretraining_beam
from albert_tf.data import pretraining_config
from albert_tf.data import pretraining_documents
from albert_tf.data import pretraining_writer
from albert_tf.tokenization import FullTokenizer

flags.DEFINE_string("input_file", None,
                    "Input raw text file glob (or comma-separated globs).")
flags.DEFINE_string("output_file", None,
                    "Output TFRecord file (or comma-separated list of files).")
flags.DEFINE_string("vocab_file", None,
                    "WordPiece vocab file of the official script; not used with "
                    "--spm_model_file (accepted for command-line compatibility).")
flags.DEFINE_string("spm_model_file", None, "SentencePiece model file.")
flags.DEFINE_bool("do_lower_case", True, "Lower-case the input text.")
flags.DEFINE_bool("do_whole_word_mask", True,
                  "Mask whole words rather than single SentencePiece pieces.")
flags.DEFINE_bool("do_permutation", False,
                  "Also add permutation-LM predictions (doubles the masked_lm_* length).")
flags.DEFINE_bool("favor_shorter_ngram", True,
                  "Sample n-gram lengths with p(n) proportional to 1/n (else reversed).")
flags.DEFINE_bool("random_next_sentence", False,
                  "Take negative B segments from random documents half of the time "
                  "instead of swapping A and B.")
flags.DEFINE_integer("max_seq_length", 512, "Maximum sequence length.")
flags.DEFINE_integer("ngram", 3, "Maximum n-gram length (in words) to mask.")
flags.DEFINE_integer("max_predictions_per_seq", 20,
                     "Maximum number of masked LM predictions per sequence.")
flags.DEFINE_integer("random_seed", 12345, "Random seed for data generation.")
flags.DEFINE_integer("dupe_factor", 40,
                     "Number of times to duplicate the input data (with different masks).")
flags.DEFINE_float("masked_lm_prob", 0.15, "Masked LM probability.")
flags.DEFINE_float("short_seq_prob", 0.1,
                   "Probability of creating sequences shorter than the maximum length.")
flags.DEFINE_string("input_file_mode", "r",
                    "Official flag: 'r' or 'rb'; input is read as UTF-8 either way.")
flags.register_validator("input_file_mode", lambda value: value in ("r", "rb"),
                         "--input_file_mode must be 'r' or 'rb'")
flags.DEFINE_bool("parallel", False,
                  "Official flag: process the input in parallel; here, --num_workers "
                  "defaults to every CPU when it is set.")
flags.DEFINE_integer("num_workers", None,
                     "Worker processes (default 1, or every CPU with --parallel); the "
                     "output does not depend on it.")
flags.DEFINE_float("document_window_mb", 16.0,
                   "MB of one file per document window (a byte range cut at blank lines): "
                   "the unit of work and memory, and the pool random B segments are "
                   "drawn from (a smaller file is one window).")
flags.DEFINE_integer("interleave_windows", 8,
                     "Windows whose dupe rounds run in turn (round 0 of each, then round "
                     "1, ...): a document's differently masked copies land this many "
                     "windows' records apart, so they rarely share a training batch. With "
                     "a Beam runner, the windows of one work unit.")
flags.DEFINE_integer("shuffle_buffer_size", 20000,
                     "Records in the seeded output shuffle buffer (the official script "
                     "shuffles all instances in memory).")
_FIELDS = {f.name: f for f in dataclasses.fields(pretraining_config.PretrainingDataConfig)}
flags.DEFINE_string("runner", pretraining_config.LOCAL_RUNNER, _FIELDS["runner"].metadata["help"])
flags.DEFINE_string("beam_pipeline_options", "",
                    _FIELDS["beam_pipeline_options"].metadata["help"])
flags.DEFINE_integer("num_output_shards", 0, _FIELDS["num_output_shards"].metadata["help"])

FLAGS = flags.FLAGS


def main(argv):
    del argv
    if not FLAGS.spm_model_file:
        raise app.UsageError("--spm_model_file is required (WordPiece --vocab_file "
                             "alone is not supported)")
    runners = (pretraining_config.LOCAL_RUNNER,) + pretraining_config.BEAM_RUNNERS
    if FLAGS.runner not in runners:
        raise app.UsageError(f"--runner={FLAGS.runner}: unknown runner; expected one of "
                             f"{', '.join(runners)}")
    uses_beam = FLAGS.runner != pretraining_config.LOCAL_RUNNER
    if uses_beam and (FLAGS.num_workers or FLAGS.parallel):
        raise app.UsageError(
            "--num_workers/--parallel apply to --runner=local; a Beam runner's "
            "parallelism is set by --beam_pipeline_options (e.g. direct_num_workers=2)")
    if not uses_beam and (FLAGS.beam_pipeline_options or FLAGS.num_output_shards):
        raise app.UsageError("--beam_pipeline_options/--num_output_shards need a Beam "
                             "--runner (e.g. --runner=DirectRunner)")
    tokenizer = FullTokenizer(FLAGS.spm_model_file, do_lower_case=FLAGS.do_lower_case)
    config = pretraining_config.PretrainingDataConfig(
        max_seq_length=FLAGS.max_seq_length,
        max_predictions_per_seq=FLAGS.max_predictions_per_seq,
        masked_lm_prob=FLAGS.masked_lm_prob,
        short_seq_prob=FLAGS.short_seq_prob,
        dupe_factor=FLAGS.dupe_factor,
        ngram=FLAGS.ngram,
        favor_shorter_ngram=FLAGS.favor_shorter_ngram,
        do_whole_word_mask=FLAGS.do_whole_word_mask,
        do_permutation=FLAGS.do_permutation,
        random_next_sentence=FLAGS.random_next_sentence,
        random_seed=FLAGS.random_seed,
        num_workers=FLAGS.num_workers or ((os.cpu_count() or 1) if FLAGS.parallel else 1),
        document_window_mb=FLAGS.document_window_mb,
        interleave_windows=FLAGS.interleave_windows,
        shuffle_buffer_size=FLAGS.shuffle_buffer_size,
        runner=FLAGS.runner,
        beam_pipeline_options=FLAGS.beam_pipeline_options,
        num_output_shards=FLAGS.num_output_shards)
    if uses_beam:  # pretraining_beam imports apache_beam only here
        try:
            pretraining_beam.import_beam()
        except ImportError as e:
            raise app.UsageError(str(e)) from e
        pretraining_beam.create_pretraining_data_beam(
            FLAGS.input_file, FLAGS.output_file.strip(), tokenizer, config)
        return
    input_files = pretraining_documents.expand_input_files(FLAGS.input_file)
    output_files = [f.strip() for f in FLAGS.output_file.split(",") if f.strip()]
    logging.info("reading %d input file(s): %s", len(input_files), ", ".join(input_files))
    logging.info("writing %d output file(s): %s", len(output_files), ", ".join(output_files))
    pretraining_writer.create_pretraining_data(input_files, output_files, tokenizer, config)


if __name__ == "__main__":
    flags.mark_flag_as_required("input_file")
    flags.mark_flag_as_required("output_file")
    app.run(main)
