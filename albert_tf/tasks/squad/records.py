"""SQuAD features cached as TFRecords (official feature names) + the tf.data input.

`load_or_create_squad_features` converts examples once and reuses the result:
next to the TFRecord file it writes `<feature_file>.meta.json`, holding a key
over everything the features depend on (examples, SentencePiece model,
lower-casing, window settings, this format's version), the conversion counts
and, for prediction features, what post-processing needs (per example the
token -> original character maps, per window its unique id, example index and
position; the maps of one paragraph are stored once). A cache whose key
differs is rebuilt, never silently reused. No pickles: the sidecar is JSON.

Record features (all int64, as the official `FeatureWriter`): `unique_ids`,
`input_ids`, `input_mask`, `segment_ids`, `p_mask` [seq_length], and for
training `start_positions`, `end_positions`, `is_impossible`.
"""

import dataclasses
import hashlib
import json
import os
from typing import Dict, List, Optional

from absl import logging
import tensorflow as tf

from albert_tf.atomic_write import atomic_path
from albert_tf.data import record_diagnosis
from albert_tf.data.record_input import open_record_files
from albert_tf.tasks.squad import features as squad_features

FORMAT_VERSION = "albert_tf.squad_features/2"
META_SUFFIX = ".meta.json"
TRAINING_LABELS = ("start_positions", "end_positions", "is_impossible")


def _int_feature(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))


def feature_to_tf_example(feature, is_training):
    """A `SquadFeature` as a `tf.train.Example` with the official names."""
    fields = {
        "unique_ids": _int_feature([feature.unique_id]),
        "input_ids": _int_feature(feature.input_ids),
        "input_mask": _int_feature(feature.input_mask),
        "segment_ids": _int_feature(feature.segment_ids),
        "p_mask": _int_feature(feature.p_mask),
    }
    if is_training:
        fields["start_positions"] = _int_feature([feature.start_position])
        fields["end_positions"] = _int_feature([feature.end_position])
        fields["is_impossible"] = _int_feature([int(feature.is_impossible)])
    return tf.train.Example(features=tf.train.Features(feature=fields))


def feature_spec(seq_length, is_training):
    """`tf.io.parse_example` spec of the records."""
    spec = {
        "unique_ids": tf.io.FixedLenFeature([], tf.int64),
        "input_ids": tf.io.FixedLenFeature([seq_length], tf.int64),
        "input_mask": tf.io.FixedLenFeature([seq_length], tf.int64),
        "segment_ids": tf.io.FixedLenFeature([seq_length], tf.int64),
        "p_mask": tf.io.FixedLenFeature([seq_length], tf.int64),
    }
    if is_training:
        for name in TRAINING_LABELS:
            spec[name] = tf.io.FixedLenFeature([], tf.int64)
    return spec


def squad_dataset(input_file, seq_length, is_training, batch_size, drop_remainder=None,
                  shuffle_buffer_size=100, seed=None, repeat=None, input_context=None):
    """tf.data input over cached SQuAD features.

    Args:
      input_file: TFRecord path (or list of paths).
      seq_length: max_seq_length the features were made with.
      is_training: read the labels, shuffle and (by default) repeat forever.
      batch_size: global batch size (per replica when `input_context` is None
        and no strategy splits it).
      drop_remainder: default True for training, False for prediction (every
        window must be predicted).
      shuffle_buffer_size: records in the shuffle buffer (official 100).
      seed: shuffle seed.
      repeat: override repeating (default: training only).
      input_context: `tf.distribute.InputContext`; shards the records and uses
        the per-replica batch size.

    Returns:
      Dataset of dicts of int32 tensors: unique_ids [B], input_ids,
      input_mask, segment_ids, p_mask [B, seq_length] and, for training,
      start_positions, end_positions, is_impossible [B].
    """
    spec = feature_spec(seq_length, is_training)
    dataset, batch_size = open_record_files(input_file, batch_size, input_context)
    if is_training:
        dataset = dataset.shuffle(shuffle_buffer_size, seed=seed)
    if repeat is None:
        repeat = is_training
    if repeat:
        dataset = dataset.repeat()
    if drop_remainder is None:
        drop_remainder = is_training
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)

    def parse(records):
        parsed = tf.io.parse_example(records, spec)
        return {name: tf.cast(value, tf.int32) for name, value in parsed.items()}

    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
    return record_diagnosis.tag_files(dataset.prefetch(tf.data.AUTOTUNE), input_file)


# ------------------------------------------------------------------ caching

@dataclasses.dataclass
class SquadFeatureSet:
    """Cached features of one example list.

    Attributes:
      feature_file: the TFRecord file.
      num_features: records in it.
      stats: `SquadConversionStats.to_dict()` of the conversion.
      metas: prediction only: `SquadFeatureMeta` per record, in record order.
      reused: whether an existing cache was used.
    """
    feature_file: str
    num_features: int
    stats: Dict
    metas: Optional[List[squad_features.SquadFeatureMeta]]
    reused: bool


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def cache_key(examples, tokenizer, is_training, max_seq_length, doc_stride, max_query_length):
    """Hex key over everything the features depend on."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps(
            [example.qas_id, example.question_text, example.context_text,
             example.is_impossible, example.answers[:1] if is_training else []],
            ensure_ascii=False).encode("utf-8"))
    model_proto = getattr(tokenizer, "model_proto", None)
    if model_proto is None:
        model_proto = tokenizer.sp_model.serialized_model_proto()
    key = {
        "format": FORMAT_VERSION,
        "is_training": bool(is_training),
        "max_seq_length": max_seq_length,
        "doc_stride": doc_stride,
        "max_query_length": max_query_length,
        "do_lower_case": bool(tokenizer.do_lower_case),
        "spm_model": _sha256(model_proto),
        "examples": digest.hexdigest(),
    }
    return _sha256(json.dumps(key, sort_keys=True).encode("utf-8")), key


def count_training_records(feature_file, max_seq_length):
    """Counts the records of a training feature file, checking each against the
    official schema; a record that does not fit raises ValueError naming the file."""
    spec = feature_spec(max_seq_length, is_training=True)
    count = 0
    try:
        for batch in tf.data.TFRecordDataset(feature_file).batch(1024).map(
                lambda records: tf.io.parse_example(records, spec)["unique_ids"]):
            count += int(batch.shape[0])
    except tf.errors.InvalidArgumentError as e:
        raise ValueError(
            f"{feature_file}: record {count + 1} or one after it is not a SQuAD training "
            f"feature with max_seq_length {max_seq_length} (expected int64 "
            f"{sorted(spec)}): {e.message.splitlines()[0]}") from None
    return count


def _read_meta(meta_file):
    if not tf.io.gfile.exists(meta_file):
        return None
    try:
        with tf.io.gfile.GFile(meta_file, "r") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        logging.warning("Ignoring unreadable feature cache sidecar %s: %s", meta_file, e)
        return None


def metas_from_sidecar(meta):
    """Rebuilds the `SquadFeatureMeta`s stored by a prediction cache sidecar."""
    paragraphs = meta["paragraphs"]
    tokens = {example_index: squad_features.ExampleTokens(qas_id, *paragraphs[paragraph])
              for example_index, qas_id, paragraph in meta["examples"]}
    by_example = {}
    for unique_id, example_index, doc_start, doc_length, doc_offset in meta["features"]:
        by_example.setdefault(example_index, []).append(
            (unique_id, doc_start, doc_length, doc_offset))
    metas = []
    for example_index, windows in by_example.items():
        metas.extend(squad_features.window_metas(
            [w[0] for w in windows], example_index, tokens[example_index],
            [(w[1], w[2]) for w in windows], windows[0][3]))
    return metas


def load_or_create_squad_features(examples, tokenizer, feature_file, is_training,
                                  max_seq_length=384, doc_stride=128, max_query_length=64,
                                  overwrite=False):
    """Converts `examples` into `feature_file` once; later calls reuse it.

    Args:
      examples: list of `SquadExample`.
      tokenizer: `FullTokenizer`.
      feature_file: TFRecord path (any tf.io.gfile path); the sidecar is
        `feature_file + ".meta.json"`.
      is_training: write labels (no post-processing metadata is kept).
      max_seq_length, doc_stride, max_query_length: official settings.
      overwrite: rebuild even if a matching cache exists.

    Returns:
      `SquadFeatureSet`.
    """
    feature_file = str(feature_file)
    meta_file = feature_file + META_SUFFIX
    key, key_parts = cache_key(examples, tokenizer, is_training, max_seq_length,
                               doc_stride, max_query_length)
    meta = None if overwrite else _read_meta(meta_file)
    if (is_training and not overwrite and meta is None and not tf.io.gfile.exists(meta_file)
            and tf.io.gfile.exists(feature_file)):
        # Written elsewhere (e.g. by the official script): reused as it is, as the
        # official script reuses an existing --train_feature_file.
        num_features = count_training_records(feature_file, max_seq_length)
        logging.warning("%s has no %s sidecar (not written by albert_tf): reusing its %d "
                        "windows as the official script does, unchecked against the "
                        "training questions and settings; delete it to rebuild",
                        feature_file, META_SUFFIX, num_features)
        return SquadFeatureSet(feature_file=feature_file, num_features=num_features,
                               stats={}, metas=None, reused=True)
    if meta is None and tf.io.gfile.exists(feature_file) and not overwrite:
        logging.warning("%s has no %s sidecar: prediction needs the window metadata "
                        "kept there (the official predict_feature_left_file pickle is not "
                        "readable here), so it is rebuilt", feature_file, META_SUFFIX)
    if meta is not None and meta.get("cache_key") == key and tf.io.gfile.exists(feature_file):
        logging.info("Reusing SQuAD features %s (%d windows)", feature_file,
                     meta["num_features"])
        return SquadFeatureSet(
            feature_file=feature_file, num_features=meta["num_features"],
            stats=meta["stats"], metas=None if is_training else metas_from_sidecar(meta),
            reused=True)
    if meta is not None:
        logging.warning("SQuAD feature cache %s was made from other inputs or settings; "
                        "rebuilding it", feature_file)
    if tf.io.gfile.exists(meta_file):
        tf.io.gfile.remove(meta_file)
    parent = os.path.dirname(feature_file)
    if parent:
        tf.io.gfile.makedirs(parent)

    stats = squad_features.SquadConversionStats()
    example_tokens = {} if not is_training else None
    compact = []
    metas = [] if not is_training else None

    def write_records(path):
        with tf.io.TFRecordWriter(path) as writer:
            for feature in squad_features.convert_examples_to_features(
                    examples, tokenizer, is_training, max_seq_length=max_seq_length,
                    doc_stride=doc_stride, max_query_length=max_query_length,
                    stats=stats, example_tokens=example_tokens):
                writer.write(feature_to_tf_example(feature, is_training).SerializeToString())
                if metas is not None:
                    m = feature.meta
                    metas.append(m)
                    compact.append([m.unique_id, m.example_index, feature.doc_start,
                                    len(m.tok_start_to_orig_index), m.doc_offset])

    with atomic_path(feature_file) as tmp:
        write_records(tmp)
    sidecar = {"format": FORMAT_VERSION, "cache_key": key, "key_parts": key_parts,
               "is_training": bool(is_training), "num_features": stats.num_features,
               "stats": stats.to_dict()}
    if not is_training:
        # Questions on one paragraph share its char maps (the same list objects).
        paragraphs, paragraph_index = [], {}
        sidecar["examples"] = []
        for index, t in example_tokens.items():
            if id(t.tok_start_to_orig_index) not in paragraph_index:
                paragraph_index[id(t.tok_start_to_orig_index)] = len(paragraphs)
                paragraphs.append([t.tok_start_to_orig_index, t.tok_end_to_orig_index])
            sidecar["examples"].append([index, t.qas_id,
                                        paragraph_index[id(t.tok_start_to_orig_index)]])
        sidecar["paragraphs"] = paragraphs
        sidecar["features"] = compact

    def write_sidecar(path):
        with tf.io.gfile.GFile(path, "w") as f:
            json.dump(sidecar, f, ensure_ascii=False, separators=(",", ":"))

    with atomic_path(meta_file) as tmp:
        write_sidecar(tmp)
    return SquadFeatureSet(feature_file=feature_file, num_features=stats.num_features,
                           stats=stats.to_dict(), metas=metas, reused=False)
