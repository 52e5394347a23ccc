"""ALBERT checkpoints: every format read into `NamedWeights`, one loader builds the model
(`loader.py`); the official TF1 format, Hugging Face and keras-hub written back."""

from albert_tf.checkpoints.official import (list_official_variables, resolve_checkpoint,
                                            restore_official_weights, save_official_checkpoint)
from albert_tf.checkpoints.variable_names import CheckpointMismatchError, official_variable_map
from albert_tf.checkpoints.loader import (detect_format, load_official_checkpoint,
                                          load_pretrained, load_weights, read_config,
                                          read_pretrained)
from albert_tf.checkpoints.pretrained import convert_checkpoint, save_pretrained
