"""The first steps of every fine-tuning reader of cached TFRecords (classifier, RACE,
SQuAD): check the files, read them, and take this input pipeline's share."""

import tensorflow as tf

from albert_tf.data import record_diagnosis


def open_record_files(input_file, batch_size, input_context=None):
    """(TFRecordDataset of `input_file`, the batch size this pipeline batches by).

    Args:
      input_file: a TFRecord path or list of paths; each file's first record is read
        now, so a damaged or non-TFRecord file is named before any training
        (`record_diagnosis.check_first_records`).
      batch_size: the global batch size.
      input_context: `tf.distribute.InputContext` from
        `distribute_datasets_from_function`: the records are sharded by pipeline
        (pipeline i of n reads records i, i + n, ...) and the batch size is the
        per-replica one.

    Raises:
      record_diagnosis.CorruptRecordError naming the file.
    """
    record_diagnosis.check_first_records(input_file)
    dataset = tf.data.TFRecordDataset(input_file)
    if input_context is not None:
        dataset = dataset.shard(input_context.num_input_pipelines,
                                input_context.input_pipeline_id)
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    return dataset, batch_size
