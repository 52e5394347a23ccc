"""Trains an ALBERT SentencePiece vocabulary (30k-clean.model / .vocab) from text.

  albert-vocab --input=corpus/*.txt --model_prefix=vocab/30k-clean --vocab_size=30000
"""

import dataclasses

from albert_tf.cli.entry import params_command
from albert_tf.settings import Vocabulary, setting, setting_of
from albert_tf.tokenization.vocab_trainer import train_vocab

COMMAND = "albert-vocab"


@dataclasses.dataclass(kw_only=True)
class VocabParams:
    """What `albert-vocab` trains (SentencePiece settings of the released 30k-clean)."""

    input: str = setting(help="Input text file(s): comma-separated paths or globs.",
                         required=True)
    model_prefix: str = setting(help="Output prefix for .model and .vocab.", required=True)
    vocab_size: int = setting(30000, "Vocabulary size, special pieces included.")
    do_lower_case: bool = setting_of(Vocabulary, "do_lower_case",
                                     help="Lower-case the text before training.")
    character_coverage: float = setting(0.99995, "SentencePiece character coverage.",
                                        min=0.98, max=1.0)
    input_sentence_size: int = setting(10_000_000, "Max sentences sampled.")
    shuffle_input_sentence: bool = setting(True, "Shuffle before sampling.")
    num_threads: int = setting(None, "Trainer threads (default the official 16: the "
                                     "vocabulary depends on it, so this keeps it the same on "
                                     "every machine).", min=1)
    seed: int = setting(None, "Random seed for SentencePiece.")


def train(params):
    """Trains the vocabulary of `params`; prints where it went."""
    path = train_vocab(params.input, params.model_prefix, vocab_size=params.vocab_size,
                       do_lower_case=params.do_lower_case,
                       character_coverage=params.character_coverage,
                       input_sentence_size=params.input_sentence_size,
                       shuffle_input_sentence=params.shuffle_input_sentence,
                       num_threads=params.num_threads, seed=params.seed)
    print(f"wrote {path} and {params.model_prefix}.vocab")
    return path


define_flags, main, run = params_command(VocabParams, train, __name__, __doc__, COMMAND)

if __name__ == "__main__":
    run()
