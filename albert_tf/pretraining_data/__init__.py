"""The offline pretraining-data tool: text -> ALBERT MLM/SOP TFRecords (local workers or Beam)."""

from albert_tf.pretraining_data.config import PretrainingDataConfig
from albert_tf.pretraining_data.writer import create_pretraining_data
