"""Trains an ALBERT SentencePiece vocabulary (30k-clean.model / .vocab) from text.

  albert-vocab --input=corpus/*.txt --model_prefix=vocab/30k-clean --vocab_size=30000
"""

from albert_tf.cli.entry import start
from albert_tf.tokenization import vocab_trainer

FLAG_NAMES = ["input", "model_prefix", "vocab_size", "do_lower_case", "character_coverage",
              "input_sentence_size", "shuffle_input_sentence", "num_threads", "seed"]


def define_flags():
    vocab_trainer._define_flags()  # pylint: disable=protected-access
    return FLAG_NAMES


def main(argv):
    vocab_trainer.main(argv)


def run():
    """The console script `albert-vocab`."""
    start(main, __doc__, __name__, define_flags)
