"""Sentence (pair) classification features, TFRecord caching and tf.data input.

Matches google-research/albert `classifier_utils.py`: `[CLS] a [SEP] (b [SEP])`,
the longer text truncated one token at a time, zero padding, and the TFRecord
features `input_ids`, `input_mask`, `segment_ids`, `label_ids` (float for STS-B)
and `is_real_example`. The same record format with `num_choices * seq_length`
ids per record serves RACE (see `race_features.py`).
"""

import collections
import dataclasses
import hashlib
import json
import os
from typing import List, Union

from absl import logging
import tensorflow as tf

from albert_tf.atomic_write import atomic_path, write_json_atomically
from albert_tf.data import padding
from albert_tf.data import record_diagnosis
from albert_tf.data.record_input import open_record_files


@dataclasses.dataclass
class InputFeatures:
    """Model inputs of one example.

    Ids are `[seq_length]` lists, `[num_choices][seq_length]` for RACE.
    """
    input_ids: list
    input_mask: list
    segment_ids: list
    label_id: Union[int, float]
    is_real_example: bool = True


class PaddingInputExample:
    """Fake example that pads eval/predict sets to a multiple of the batch size.

    Its features are all zeros with `is_real_example=0`, so metrics and written
    predictions must drop it (official `PaddingInputExample`).
    """


def pad_to_batch_multiple(examples, batch_size):
    """Returns `examples` followed by `PaddingInputExample`s up to a multiple of `batch_size`."""
    num_padding = -len(examples) % batch_size
    return list(examples) + [PaddingInputExample() for _ in range(num_padding)]


def truncate_seq_pair(tokens_a, tokens_b, max_length):
    """Pops tokens, always from the currently longer list (`b` on ties), in place."""
    while len(tokens_a) + len(tokens_b) > max_length:
        if len(tokens_a) > len(tokens_b):
            tokens_a.pop()
        else:
            tokens_b.pop()


def build_inputs(tokens_a, tokens_b, max_seq_length, tokenizer, pair=False):
    """`[CLS] a [SEP] (b [SEP])` -> zero-padded (input_ids, input_mask, segment_ids).

    The b part is left out when `tokens_b` is empty (official `classifier_utils`:
    `if tokens_b:`) unless `pair` (official `race_utils` always writes it).
    The caller has already truncated so that everything fits in `max_seq_length`.
    """
    ids = [tokenizer.cls_id] + tokenizer.convert_tokens_to_ids(tokens_a) + [tokenizer.sep_id]
    segment_ids = [0] * len(ids)
    if tokens_b or pair:
        ids += tokenizer.convert_tokens_to_ids(tokens_b) + [tokenizer.sep_id]
        segment_ids += [1] * (len(tokens_b) + 1)
    if len(ids) > max_seq_length:
        raise ValueError(f"{len(ids)} tokens do not fit max_seq_length {max_seq_length}")
    num_padding = max_seq_length - len(ids)
    # Official pads with id 0 (`<pad>` in the 30k-clean model), mask 0, segment 0.
    input_mask = [1] * len(ids) + [0] * num_padding
    return ids + [0] * num_padding, input_mask, segment_ids + [0] * num_padding


def convert_single_example(example, label_list, max_seq_length, tokenizer,
                           is_regression=False):
    """One `InputExample` (or `PaddingInputExample`) -> `InputFeatures`.

    Args:
      example: `glue.InputExample` with preprocessed texts.
      label_list: the processor's labels; position = label id. Ignored for regression.
      max_seq_length: padded length, in tokens, including [CLS]/[SEP].
      tokenizer: has `tokenize`, `convert_tokens_to_ids`, `cls_id`, `sep_id`.
      is_regression: the label is a float (STS-B).
    """
    if isinstance(example, PaddingInputExample):
        zeros = [0] * max_seq_length
        return InputFeatures(list(zeros), list(zeros), list(zeros),
                             0.0 if is_regression else 0, is_real_example=False)
    tokens_a = tokenizer.tokenize(example.text_a)
    tokens_b = tokenizer.tokenize(example.text_b) if example.text_b else None
    if tokens_b:
        truncate_seq_pair(tokens_a, tokens_b, max_seq_length - 3)
    else:
        tokens_a = tokens_a[:max_seq_length - 2]
    input_ids, input_mask, segment_ids = build_inputs(
        tokens_a, tokens_b, max_seq_length, tokenizer)
    if is_regression:
        label_id = float(example.label)
    else:
        label_map = {label: i for i, label in enumerate(label_list)}
        if example.label not in label_map:
            raise ValueError(f"example {example.guid}: label {example.label!r} is not "
                             f"one of {list(label_list)}")
        label_id = label_map[example.label]
    return InputFeatures(input_ids, input_mask, segment_ids, label_id)


def convert_examples_to_features(examples, label_list, max_seq_length, tokenizer,
                                 is_regression=False) -> List[InputFeatures]:
    """In-memory list version of `convert_single_example`."""
    return [convert_single_example(e, label_list, max_seq_length, tokenizer, is_regression)
            for e in examples]


# ----------------------------------------------------------------------------
# TFRecords.

def _int_feature(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))


def _float_feature(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=list(values)))


def _flatten(ids):
    """`[seq]` or `[num_choices][seq]` -> flat list (official `sum(ids, [])` for RACE)."""
    if ids and isinstance(ids[0], (list, tuple)):
        return [i for choice in ids for i in choice]
    return list(ids)


def features_to_tf_example(features, is_regression=False):
    """`InputFeatures` -> `tf.train.Example` with the official feature names."""
    record = collections.OrderedDict()
    record["input_ids"] = _int_feature(_flatten(features.input_ids))
    record["input_mask"] = _int_feature(_flatten(features.input_mask))
    record["segment_ids"] = _int_feature(_flatten(features.segment_ids))
    if is_regression:
        record["label_ids"] = _float_feature([features.label_id])
    else:
        record["label_ids"] = _int_feature([features.label_id])
    record["is_real_example"] = _int_feature([int(features.is_real_example)])
    return tf.train.Example(features=tf.train.Features(feature=record))


def _metadata_path(output_file):
    return output_file + ".meta.json"


def _fingerprint(examples, extra):
    """sha256 over the examples' fields and the settings that shape the records."""
    digest = hashlib.sha256(json.dumps(extra, sort_keys=True).encode("utf-8"))
    for example in examples:
        if isinstance(example, PaddingInputExample):
            digest.update(b"<padding>\n")
        else:
            digest.update(repr(sorted(vars(example).items())).encode("utf-8"))
            digest.update(b"\n")
    return digest.hexdigest()


def tokenizer_description(tokenizer):
    return {"tokenizer": type(tokenizer).__name__,
            "spm_model_file": os.path.basename(str(getattr(tokenizer, "spm_model_file", ""))),
            "vocab_size": getattr(tokenizer, "vocab_size", None)}


def write_tfrecord(examples, output_file, convert_fn, is_regression=False, settings=None):
    """Converts `examples` with `convert_fn` and writes one record each.

    The file is written under a temporary name and renamed, so an interrupted run
    never leaves a truncated cache. A `<output_file>.meta.json` sidecar records
    the counts and a fingerprint of the inputs for `ensure_tfrecord`.

    Returns:
      The metadata dict: `num_records`, `num_real_examples`, `fingerprint`, ...
    """
    settings = dict(settings or {})
    directory = os.path.dirname(output_file)
    if directory:
        tf.io.gfile.makedirs(directory)
    num_records = num_real = 0
    with atomic_path(output_file) as tmp_file, tf.io.TFRecordWriter(tmp_file) as writer:
        for index, example in enumerate(examples):
            if index % 10000 == 0:
                logging.info("Writing example %d of %d to %s", index, len(examples),
                             output_file)
            features = convert_fn(example)
            writer.write(features_to_tf_example(features, is_regression).SerializeToString())
            num_records += 1
            num_real += int(features.is_real_example)
    metadata = dict(settings, num_records=num_records, num_real_examples=num_real,
                    fingerprint=_fingerprint(examples, settings))
    write_json_atomically(_metadata_path(output_file), metadata)
    return metadata


def ensure_tfrecord(examples, output_file, convert_fn, is_regression=False, settings=None):
    """Reuses `output_file` when its sidecar matches these inputs, else (re)writes it.

    Like the official scripts' `cached_dir` (reuse the file if it exists), but a
    cache written from other examples or settings is rewritten instead of silently
    reused. A file without a sidecar (e.g. from the official scripts) is reused
    as is, with a warning. Returns the metadata dict (see `write_tfrecord`).
    """
    settings = dict(settings or {})
    if tf.io.gfile.exists(output_file):
        meta_path = _metadata_path(output_file)
        if not tf.io.gfile.exists(meta_path):
            logging.warning("Reusing %s without %s: cannot check that it matches "
                            "the examples", output_file, meta_path)
            return dict(settings, num_records=len(examples), num_real_examples=sum(
                not isinstance(e, PaddingInputExample) for e in examples))
        with tf.io.gfile.GFile(meta_path, "r") as f:
            metadata = json.load(f)
        if metadata.get("fingerprint") == _fingerprint(examples, settings):
            logging.info("Reusing cached %s (%d records)", output_file,
                         metadata["num_records"])
            return metadata
        logging.warning("%s was written from other examples or settings; rewriting it",
                        output_file)
    return write_tfrecord(examples, output_file, convert_fn, is_regression, settings)


def cached_tfrecord_path(cached_dir, task_name, split):
    """Official cache names: `<task>_train.tf_record`, `<task>_eval.tf_record`,
    `predict.tf_record`."""
    names = {"train": f"{task_name}_train.tf_record", "dev": f"{task_name}_eval.tf_record",
             "test": "predict.tf_record"}
    if split not in names:
        raise ValueError(f"split must be train, dev or test, got {split!r}")
    return os.path.join(cached_dir, names[split])


def ensure_classifier_tfrecord(examples, label_list, max_seq_length, tokenizer,
                               output_file, is_regression=False):
    """GLUE examples -> cached TFRecord (see `ensure_tfrecord`); returns its metadata."""
    settings = dict(tokenizer_description(tokenizer), max_seq_length=max_seq_length,
                    label_list=[str(label) for label in label_list],
                    is_regression=is_regression)
    return ensure_tfrecord(
        examples, output_file,
        lambda e: convert_single_example(e, label_list, max_seq_length, tokenizer,
                                         is_regression),
        is_regression, settings)


# ----------------------------------------------------------------------------
# tf.data.

def record_feature_spec(max_seq_length, is_regression=False, num_choices=None):
    """`tf.io.parse_single_example` spec of the official records."""
    length = max_seq_length * (num_choices or 1)
    return {
        "input_ids": tf.io.FixedLenFeature([length], tf.int64),
        "input_mask": tf.io.FixedLenFeature([length], tf.int64),
        "segment_ids": tf.io.FixedLenFeature([length], tf.int64),
        "label_ids": tf.io.FixedLenFeature([], tf.float32 if is_regression else tf.int64),
        "is_real_example": tf.io.FixedLenFeature([], tf.int64),
    }


def decode_record(record, max_seq_length, is_regression=False, num_choices=None):
    """Serialized record -> dict of int32 tensors (float32 `label_ids` for regression).

    Ids are `[max_seq_length]`, or `[num_choices, max_seq_length]` when `num_choices`.
    """
    example = tf.io.parse_single_example(
        record, record_feature_spec(max_seq_length, is_regression, num_choices))
    for name, tensor in list(example.items()):
        if tensor.dtype == tf.int64:
            tensor = tf.cast(tensor, tf.int32)
        if num_choices and name in ("input_ids", "input_mask", "segment_ids"):
            tensor = tf.reshape(tensor, [num_choices, max_seq_length])
        example[name] = tensor
    return example


def features_dataset(features, is_regression=False):
    """Unbatched in-memory dataset of `InputFeatures` with the same dicts as the records.

    For small sets (tests, a few dozen examples); large sets should go through
    TFRecords. Ids come out `[seq]` or `[num_choices, seq]` int32.
    """
    def column(name, dtype):
        return tf.constant([getattr(f, name) for f in features], dtype=dtype)

    return tf.data.Dataset.from_tensor_slices({
        "input_ids": column("input_ids", tf.int32),
        "input_mask": column("input_mask", tf.int32),
        "segment_ids": column("segment_ids", tf.int32),
        "label_ids": column("label_id", tf.float32 if is_regression else tf.int32),
        "is_real_example": tf.constant([int(f.is_real_example) for f in features], tf.int32),
    })


def classifier_dataset(input_file, max_seq_length, batch_size, is_training,
                       drop_remainder=None, is_regression=False, num_choices=None,
                       shuffle_buffer_size=100, seed=None, input_context=None,
                       trim_padding_multiple=None):
    """tf.data pipeline over official classifier/RACE TFRecords.

    Args:
      input_file: a TFRecord path (or list of paths).
      max_seq_length: record length in tokens (per choice for RACE).
      batch_size: global batch size; divided per replica when `input_context`.
      is_training: repeat forever and shuffle (official: repeat, then shuffle
        with a 100-record buffer); otherwise one pass in file order.
      drop_remainder: default True for training, False for eval.
      is_regression: float `label_ids` (STS-B).
      num_choices: RACE's 4: ids come out `[batch, 4, max_seq_length]`.
      shuffle_buffer_size, seed: training shuffle.
      input_context: `tf.distribute.InputContext` from
        `distribute_datasets_from_function`; the file is sharded by pipeline.
      trim_padding_multiple: if set, each batch drops its all-padding trailing
        columns, keeping a multiple of this (`padding.trim_padding`); seq is
        then the batch's own length, at most max_seq_length.

    Returns:
      A dataset of dicts `input_ids`, `input_mask`, `segment_ids` (int32
      `[batch, seq]` or `[batch, num_choices, seq]`), `label_ids` `[batch]`
      (int32, float32 for regression), `is_real_example` int32 `[batch]`.
    """
    if drop_remainder is None:
        drop_remainder = is_training
    dataset, batch_size = open_record_files(input_file, batch_size, input_context)
    if is_training:
        dataset = dataset.repeat()
        dataset = dataset.shuffle(shuffle_buffer_size, seed=seed)
    dataset = dataset.map(
        lambda record: decode_record(record, max_seq_length, is_regression, num_choices),
        num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    dataset = padding.trim_batches(dataset, trim_padding_multiple)
    return record_diagnosis.tag_files(dataset.prefetch(tf.data.AUTOTUNE), input_file)
