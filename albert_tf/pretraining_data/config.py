"""Settings of the pretraining data generator and its seed derivation."""

import dataclasses
import hashlib

from albert_tf.settings import check_ranges, setting

# What --runner accepts: the in-process writer, or an Apache Beam runner.
LOCAL_RUNNER = "local"
BEAM_RUNNERS = ("DirectRunner", "DataflowRunner", "FlinkRunner", "SparkRunner",
                "PrismRunner")


@dataclasses.dataclass(frozen=True)
class PretrainingDataConfig:
    """Generation settings; defaults are the official flag defaults."""

    max_seq_length: int = setting(512, "Maximum sequence length.", min=5)
    max_predictions_per_seq: int = setting(20, "Maximum number of masked LM predictions per "
                                               "sequence.")
    masked_lm_prob: float = setting(0.15, "Masked LM probability.")
    short_seq_prob: float = setting(0.1, "Probability of creating sequences shorter than the "
                                         "maximum length.", min=0, max=1)
    dupe_factor: int = setting(40, "Number of times to duplicate the input data (with "
                                   "different masks).", min=1)
    ngram: int = setting(3, "Maximum n-gram length (in words) to mask.")
    favor_shorter_ngram: bool = setting(True, "Sample n-gram lengths with p(n) proportional "
                                              "to 1/n (else reversed).")
    do_whole_word_mask: bool = setting(True, "Mask whole words rather than single "
                                             "SentencePiece pieces.")
    do_permutation: bool = setting(False, "Also add permutation-LM predictions (doubles the "
                                          "masked_lm_* length).")
    random_next_sentence: bool = setting(False, "Take negative B segments from random "
                                                "documents half of the time instead of "
                                                "swapping A and B.")
    random_seed: int = setting(12345, "Random seed for data generation.")
    num_workers: int = setting(None, "Worker processes (default 1, or every CPU with "
                                     "--parallel); the output does not depend on it.", min=1)
    document_window_mb: float = setting(
        16.0, "MB of one file per document window (a byte range cut at blank lines): the "
              "unit of work and memory, and the pool random B segments are drawn from (a "
              "smaller file is one window).", above=0)
    interleave_windows: int = setting(
        8, "Windows whose dupe rounds run in turn (round 0 of each, then round 1, ...): a "
           "document's differently masked copies land this many windows' records apart, so "
           "they rarely share a training batch. With a Beam runner, the windows of one work "
           "unit.", min=1)
    shuffle_buffer_size: int = setting(
        20000, "Records in the seeded output shuffle buffer (the official script shuffles "
               "all instances in memory).", min=1)
    runner: str = setting(
        LOCAL_RUNNER, "'local' (this machine, --num_workers processes) or an Apache Beam "
                      "runner: " + ", ".join(BEAM_RUNNERS) + " (needs the 'beam' extra: pip "
                      "install 'albert_tf[beam]').", choices=(LOCAL_RUNNER,) + BEAM_RUNNERS)
    beam_pipeline_options: str = setting(
        "", "Comma-separated key=value Beam PipelineOptions for a Beam --runner, e.g. "
            "direct_num_workers=2,direct_running_mode=multi_processing or "
            "project=P,region=R,temp_location=gs://B/tmp,setup_file=./setup.py.")
    num_output_shards: int = setting(
        0, "Beam runners: output shards <output_file>-SSSSS-of-NNNNN; 0 chooses about one "
           "per 128 MB of input text x dupe_factor.", min=0)

    def __post_init__(self):
        if self.num_workers is None:  # the command line resolves it with --parallel
            object.__setattr__(self, "num_workers", 1)
        check_ranges(self)

    @property
    def uses_beam(self):
        return self.runner != LOCAL_RUNNER

    @property
    def window_bytes(self):
        """`document_window_mb` in bytes."""
        return max(1, int(self.document_window_mb * (1 << 20)))

    @property
    def num_prediction_slots(self):
        """Padded length of the masked_lm_* features (doubled by do_permutation)."""
        return self.max_predictions_per_seq * (2 if self.do_permutation else 1)


def derive_seed(random_seed, *keys):
    """A 63-bit seed from `random_seed` and `keys`, stable across runs and Pythons."""
    text = "/".join(str(k) for k in (random_seed,) + keys)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little") >> 1
