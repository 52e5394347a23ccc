"""TensorBoard scalars: the trainer's `summaries/train`, every evaluation's
`summaries/eval`."""

import os

import tensorflow as tf


def write_scalar_summary(tag, value, step):
    """A TensorBoard scalar without the tensorboard package (tf.summary.scalar needs it)."""
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    tf.summary.write(tag, tf.constant(value, tf.float32), step=step, metadata=metadata)



class EvalSummaries:
    """TensorBoard scalars of every evaluation in `output_dir/summaries/eval`, at the
    step of the evaluated checkpoint (beside the trainer's `summaries/train`)."""

    def __init__(self, output_dir):
        self.directory = os.path.join(output_dir, "summaries", "eval")
        self._writer = None

    def write(self, step, metrics):
        if step is None:
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.directory)
        with self._writer.as_default(step=int(step)):
            for key, value in sorted(metrics.items()):
                if key != "global_step" and isinstance(value, (int, float)) \
                        and not isinstance(value, bool):
                    write_scalar_summary(key, float(value), int(step))
        self._writer.flush()
