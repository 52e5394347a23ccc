"""Task models: an `AlbertEncoder` with heads."""

from albert_tf.modeling.models.pretrainer import AlbertPretrainer
from albert_tf.modeling.models.classifier import AlbertClassifier
from albert_tf.modeling.models.multiple_choice import AlbertMultipleChoice
from albert_tf.modeling.models.squad import AlbertSquadV1, AlbertSquadV2
