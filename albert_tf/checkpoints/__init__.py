"""Checkpoint conversion between the official TF1 format and Keras."""

from albert_tf.checkpoints.official import (CheckpointMismatchError, list_official_variables,
                                            load_official_checkpoint, resolve_checkpoint,
                                            restore_official_weights, save_official_checkpoint)
from albert_tf.checkpoints.variable_names import official_variable_map
from albert_tf.checkpoints.pretrained import (convert_checkpoint, load_pretrained,
                                              read_pretrained, save_pretrained)
