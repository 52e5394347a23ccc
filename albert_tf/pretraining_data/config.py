"""Settings of the pretraining data generator and its seed derivation."""

import dataclasses
import hashlib

# What --runner accepts: the in-process writer, or an Apache Beam runner.
LOCAL_RUNNER = "local"
BEAM_RUNNERS = ("DirectRunner", "DataflowRunner", "FlinkRunner", "SparkRunner",
                "PrismRunner")


@dataclasses.dataclass(frozen=True)
class PretrainingDataConfig:
    """Generation settings; defaults are the official flag defaults.

    document_window_mb: bytes of one file per window (MB); the unit of work,
      of memory and of random-B sampling (a smaller file is one window). interleave_windows: windows whose dupe rounds run
      in turn (round 0 of each, then round 1, ...), which keeps the copies of a
      document apart in the output. shuffle_buffer_size: records in the output
      shuffle buffer. num_workers: worker processes (1 = run in this process).
    runner, beam_pipeline_options, num_output_shards: where the work runs
      (`pretraining_beam` for the Beam runners).
    """
    max_seq_length: int = 512
    max_predictions_per_seq: int = 20
    masked_lm_prob: float = 0.15
    short_seq_prob: float = 0.1
    dupe_factor: int = 40
    ngram: int = 3
    favor_shorter_ngram: bool = True
    do_whole_word_mask: bool = True
    do_permutation: bool = False
    random_next_sentence: bool = False
    random_seed: int = 12345
    num_workers: int = 1
    document_window_mb: float = 16.0
    interleave_windows: int = 8
    shuffle_buffer_size: int = 20000
    runner: str = dataclasses.field(default=LOCAL_RUNNER, metadata={"help": (
        "'local' (this machine, --num_workers processes) or an Apache Beam runner: "
        + ", ".join(BEAM_RUNNERS) + " (needs the 'beam' extra: pip install "
        "'albert_tf[beam]').")})
    beam_pipeline_options: str = dataclasses.field(default="", metadata={"help": (
        "Comma-separated key=value Beam PipelineOptions for a Beam --runner, e.g. "
        "direct_num_workers=2,direct_running_mode=multi_processing or "
        "project=P,region=R,temp_location=gs://B/tmp,setup_file=./setup.py.")})
    num_output_shards: int = dataclasses.field(default=0, metadata={"help": (
        "Beam runners: output shards <output_file>-SSSSS-of-NNNNN; 0 chooses about "
        "one per 128 MB of input text x dupe_factor.")})

    def __post_init__(self):
        checks = [
            (self.max_seq_length >= 5, f"max_seq_length ({self.max_seq_length}) must be >= 5"),
            (self.dupe_factor >= 1, f"dupe_factor ({self.dupe_factor}) must be >= 1"),
            (0.0 <= self.short_seq_prob <= 1.0,
             f"short_seq_prob ({self.short_seq_prob}) must be in [0, 1]"),
            (self.num_workers >= 1, f"num_workers ({self.num_workers}) must be >= 1"),
            (self.document_window_mb > 0,
             f"document_window_mb ({self.document_window_mb}) must be > 0"),
            (self.interleave_windows >= 1,
             f"interleave_windows ({self.interleave_windows}) must be >= 1"),
            (self.shuffle_buffer_size >= 1,
             f"shuffle_buffer_size ({self.shuffle_buffer_size}) must be >= 1"),
            (self.runner in (LOCAL_RUNNER,) + BEAM_RUNNERS,
             f"runner ({self.runner!r}) must be {LOCAL_RUNNER!r} or a Beam runner: "
             f"{', '.join(BEAM_RUNNERS)}"),
            (self.num_output_shards >= 0,
             f"num_output_shards ({self.num_output_shards}) must be >= 0 (0: from the "
             f"input size)"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

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
