"""Input pipelines: ALBERT pretraining data (writer and tf.data reader)."""

from albert_tf.data.pretraining_config import PretrainingDataConfig
from albert_tf.data.pretraining_dataset import pretraining_dataset
from albert_tf.data.pretraining_writer import create_pretraining_data
