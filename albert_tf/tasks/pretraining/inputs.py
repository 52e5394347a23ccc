"""tf.data reader of ALBERT pretraining TFRecords (the trainer's input pipeline).

Training (as the official `input_fn_builder`, in TF2 form): shuffle the files,
repeat, interleave up to `num_cpu_threads` files, shuffle records, parse,
batch with drop_remainder, optionally re-draw the masks per batch
(`dynamic_masking`), prefetch. Evaluation: files in order, no shuffle, no repeat,
the last partial batch kept. Under `tf.distribute`, pass the `InputContext`:
files are sharded over input pipelines (records, if there are fewer files
than pipelines) and `batch_size` is the global batch size.
"""

import random
import re

import tensorflow as tf
from absl import logging

from albert_tf.tasks.pretraining import dynamic_masking as pretraining_dynamic_masking
from albert_tf.pretraining_data import documents as pretraining_documents
from albert_tf.pretraining_data import example as pretraining_example
from albert_tf.data import record_diagnosis

# The released 30k-clean vocabulary: [CLS] 2, [SEP] 3, [MASK] 4.
DEFAULT_SPECIAL_IDS = {"cls_id": 2, "sep_id": 3, "mask_id": 4}
_MAX_CHECKED_FILES = 32


_SHARD_NAME = re.compile(r"^(.*)-(\d{5})-of-(\d{5})$")


def _check_one_shard_set(pattern, matches):
    """Refuses shards of one prefix written with two `--num_output_shards`: the older
    set is a previous run's output, and reading both repeats the corpus."""
    counts = {}
    for path in matches:
        match = _SHARD_NAME.match(path)
        if match:
            counts.setdefault(match.group(1), {}).setdefault(match.group(3), []).append(path)
    for prefix, sets in counts.items():
        if len(sets) > 1:
            found = ", ".join(f"-of-{n} ({len(paths)} files)" for n, paths in sorted(sets.items()))
            raise ValueError(f"file_pattern {pattern!r} matches shards of {prefix} from runs "
                             f"with different --num_output_shards: {found}; remove the old set "
                             f"or name one (e.g. {prefix}-*-of-{max(sets)})")


def _expand_pattern(file_pattern):
    patterns = file_pattern if isinstance(file_pattern, (list, tuple)) else \
        str(file_pattern).split(",")
    files = []
    for pattern in (p.strip() for p in patterns):
        if not pattern:
            continue
        matches = sorted(tf.io.gfile.glob(pattern))
        temps = [m for m in matches if pretraining_documents.is_unfinished_output(m)]
        if temps:
            # A killed writer's unfinished file may even end on a record boundary.
            logging.warning("file_pattern %r: skipping %d unfinished output(s) of a killed "
                            "run: %s", pattern, len(temps), ", ".join(temps[:3]))
            matches = [m for m in matches if m not in set(temps)]
        if not matches:
            raise ValueError(f"file_pattern {pattern!r} matched no files"
                             + (f" (only {len(temps)} unfinished *.tmp-PID output(s), never "
                                f"read)" if temps else ""))
        _check_one_shard_set(pattern, matches)
        files.extend(matches)
    if not files:
        raise ValueError(f"file_pattern {file_pattern!r} names no files")
    return files


# Written by create_pretraining_data.py (and the official one), needed only to re-draw
# masks; BERT-format and older ALBERT records lack it, and the official reader
# parses it only for on-the-fly masking.
OPTIONAL_FEATURES = ("token_boundary",)


def check_record_lengths(files, max_seq_length, max_predictions_per_seq):
    """Checks the first record of each file (up to 32) against the expected schema.

    Returns:
      The `OPTIONAL_FEATURES` that every checked file has.
    Raises:
      ValueError naming the file, the feature, and the expected and actual
      lengths (e.g. data written with another max_seq_length).
    """
    present = set(OPTIONAL_FEATURES)
    expected = pretraining_example.feature_lengths(max_seq_length, max_predictions_per_seq)
    flag_of = {name: "max_seq_length" for name in pretraining_example.SEQUENCE_FEATURES}
    flag_of.update({name: "max_predictions_per_seq"
                    for name in pretraining_example.PREDICTION_FEATURES})
    for path in files[:_MAX_CHECKED_FILES]:
        for raw in tf.data.TFRecordDataset(path).take(1):
            example = tf.train.Example.FromString(raw.numpy())
            feature_map = example.features.feature
            for name, (kind, length) in expected.items():
                if name not in feature_map and name in OPTIONAL_FEATURES:
                    present.discard(name)
                    continue
                if name not in feature_map:
                    raise ValueError(f"{path}: record has no feature {name!r}")
                feature = feature_map[name]
                values = (feature.int64_list.value if kind == pretraining_example.INT64
                          else feature.float_list.value)
                if len(values) != length:
                    reason = f" ({flag_of[name]})" if name in flag_of else ""
                    raise ValueError(
                        f"{path}: feature {name!r} has length {len(values)}, expected "
                        f"{length}{reason}; was the data written with other settings?")
    return present


def _parse_fn(max_seq_length, max_predictions_per_seq, skip=()):
    specs = {}
    for name, (kind, length) in pretraining_example.feature_lengths(
            max_seq_length, max_predictions_per_seq).items():
        if name in skip:
            continue
        dtype = tf.int64 if kind == pretraining_example.INT64 else tf.float32
        specs[name] = tf.io.FixedLenFeature([length], dtype)

    def parse(record):
        example = tf.io.parse_single_example(record, specs)
        # tf.Example stores int64; the model (and TPUs) want int32.
        return {name: tf.cast(t, tf.int32) if t.dtype == tf.int64 else t
                for name, t in example.items()}

    return parse


def pretraining_dataset(file_pattern, max_seq_length, max_predictions_per_seq, batch_size,
                        is_training, input_context=None, dynamic_masking=False,
                        vocab_size=None, special_ids=None, masked_lm_prob=0.15, ngram=3,
                        favor_shorter_ngram=True, seed=None, num_cpu_threads=4,
                        shuffle_buffer=1000):
    """The pretraining input pipeline.

    Args:
      file_pattern: glob, comma-separated globs, or a list of them.
      max_seq_length, max_predictions_per_seq: as the data was written.
      batch_size: global batch size (per-replica size comes from
        `input_context.get_per_replica_batch_size` when given).
      is_training: shuffle + repeat + drop_remainder when True.
      input_context: optional `tf.distribute.InputContext`.
      dynamic_masking: re-draw the masked LM masks for every element (each
        epoch differs); needs `vocab_size`.
      special_ids: {"cls_id", "sep_id", "mask_id"}; default the released
        vocabulary's 2, 3, 4.
      masked_lm_prob, ngram, favor_shorter_ngram: dynamic masking statistics.
      seed: makes file/record shuffling and dynamic masks reproducible.
      num_cpu_threads: files read in parallel.
      shuffle_buffer: records in the shuffle buffer (the official uses 100).

    Returns:
      `tf.data.Dataset` of dicts: input_ids, input_mask, segment_ids,
      token_boundary [batch, max_seq_length] int32 (when the records have it: it
      is optional but for dynamic masking); masked_lm_positions,
      masked_lm_ids [batch, max_predictions_per_seq] int32; masked_lm_weights
      [batch, max_predictions_per_seq] float32; next_sentence_labels [batch, 1]
      int32 (the sentence-order label).
    """
    files = _expand_pattern(file_pattern)
    record_diagnosis.check_first_records(files)
    present = check_record_lengths(files, max_seq_length, max_predictions_per_seq)
    missing = [name for name in OPTIONAL_FEATURES if name not in present]
    if dynamic_masking and missing:
        raise ValueError(f"{file_pattern}: dynamic masking needs the records' "
                         f"{missing[0]!r} feature (create_pretraining_data.py writes it); "
                         "these records have none")
    num_pipelines, pipeline_id = 1, 0
    if input_context is not None:
        num_pipelines = input_context.num_input_pipelines
        pipeline_id = input_context.input_pipeline_id
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    deterministic = None if (seed is not None or not is_training) else False

    if num_pipelines > 1 and len(files) < num_pipelines:
        d = tf.data.TFRecordDataset(files).shard(num_pipelines, pipeline_id)
        if is_training:
            d = d.repeat()
    else:
        d = tf.data.Dataset.from_tensor_slices(files)
        if num_pipelines > 1:
            d = d.shard(num_pipelines, pipeline_id)
        if is_training:
            d = d.shuffle(len(files), seed=seed, reshuffle_each_iteration=True).repeat()
            d = d.interleave(tf.data.TFRecordDataset,
                             cycle_length=max(1, min(num_cpu_threads, len(files))),
                             num_parallel_calls=tf.data.AUTOTUNE,
                             deterministic=deterministic)
        else:
            d = tf.data.TFRecordDataset(d)
    if is_training:
        d = d.shuffle(shuffle_buffer, seed=seed)

    d = d.map(_parse_fn(max_seq_length, max_predictions_per_seq, skip=missing),
              num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)

    d = d.batch(batch_size, drop_remainder=is_training)
    if dynamic_masking:
        ids = dict(DEFAULT_SPECIAL_IDS, **(special_ids or {}))
        remask = pretraining_dynamic_masking.dynamic_masking_fn(
            max_predictions_per_seq, vocab_size, ids["cls_id"], ids["sep_id"],
            ids["mask_id"], masked_lm_prob=masked_lm_prob, ngram=ngram,
            favor_shorter_ngram=favor_shorter_ngram)
        base_seed = seed if seed is not None else random.SystemRandom().randrange(1 << 31)

        def remask_batch(index, features):
            # One stateless seed per batch; batches keep counting across epochs
            # (the map follows `repeat`), so every epoch gets new masks.
            batch_seed = tf.stack([tf.constant(base_seed, tf.int64),
                                   index * num_pipelines + pipeline_id])
            return remask(features, batch_seed)

        d = d.enumerate().map(remask_batch, num_parallel_calls=tf.data.AUTOTUNE,
                              deterministic=deterministic)
    return record_diagnosis.tag_files(d.prefetch(tf.data.AUTOTUNE), files)
