"""Trains an ALBERT SentencePiece vocabulary from raw text.

Uses the settings of the released 30k-clean model (google-research/albert
README `spm_train` command and the model's own trainer_spec): unigram model,
`<pad>`=0, `<unk>`=1, no BOS/EOS, control symbols [CLS] [SEP] [MASK] (ids 2-4),
user-defined symbols ( ) " - . – £ € (ids 5-12), character_coverage 0.99995,
input_sentence_size 10M with shuffling, max_sentence_length 4192.

Every input line goes through `preprocess_text(line, lower=do_lower_case)`
before training, so the vocabulary sees text exactly as the tokenizers will
(the released vocabulary is lower-cased, hence `do_lower_case=True` by
default). Blank lines (document separators) are skipped.

CLI:
  python -m albert_tf.tokenization.vocab_trainer --input=corpus.txt \
      --model_prefix=/tmp/albert_spm --vocab_size=8000
"""

import os
import re
import tempfile

import sentencepiece as spm
import tensorflow as tf

from albert_tf.tokenization import spm_model
from albert_tf.tokenization.preprocess import preprocess_text

CONTROL_SYMBOLS = ("[CLS]", "[SEP]", "[MASK]")
# The released model's trainer_spec says num_threads: 16.
OFFICIAL_NUM_THREADS = 16
USER_DEFINED_SYMBOLS = ("(", ")", '"', "-", ".", "\u2013", "\u00a3", "\u20ac")


def _expand_inputs(input_files):
    if isinstance(input_files, str):
        input_files = input_files.split(",")
    paths = []
    for pattern in input_files:
        pattern = str(pattern).strip()
        if not pattern:
            continue
        matches = sorted(tf.io.gfile.glob(pattern))
        if not matches:
            raise FileNotFoundError(f"vocab_trainer: no input file matches {pattern}")
        folders = [m for m in matches if tf.io.gfile.isdir(m)]
        if folders:
            raise IsADirectoryError(f"vocab_trainer: {folders[0]} is a directory; give "
                                    f"text files (e.g. {folders[0]}/*.txt)")
        paths.extend(matches)
    if not paths:
        raise ValueError("vocab_trainer: no input files given")
    return paths


def _write_preprocessed(paths, out_path, do_lower_case):
    """Writes preprocessed non-empty lines; returns (num_lines, set of characters)."""
    num_lines = 0
    chars = set()
    with open(out_path, "w", encoding="utf-8") as out:
        for path in paths:
            with tf.io.gfile.GFile(path, "rb") as f:
                for raw in f:
                    line = preprocess_text(raw, lower=do_lower_case)
                    if not line:
                        continue
                    out.write(line + "\n")
                    chars.update(line)
                    num_lines += 1
    return num_lines, chars


def train_vocab(input_files, model_prefix, vocab_size=30000, do_lower_case=True,
                character_coverage=0.99995, input_sentence_size=10_000_000,
                shuffle_input_sentence=True, max_sentence_length=4192,
                num_threads=None, seed=None):
    """Trains `{model_prefix}.model` and `{model_prefix}.vocab`.

    Args:
      input_files: path, glob or comma-separated list of them (any tf.io.gfile
        path), or a list; one sentence per line.
      model_prefix: output prefix (any tf.io.gfile path).
      vocab_size: number of pieces, special and user-defined symbols included.
      do_lower_case: lower-case the text before training (see module docstring).
      character_coverage, input_sentence_size, shuffle_input_sentence,
        max_sentence_length: SentencePiece trainer settings (official values).
      num_threads: trainer threads. The unigram result depends on it, so the
        default is the official 16 on every machine (the same vocabulary
        wherever it is trained), not the number of CPUs.
      seed: if given, seeds SentencePiece's random generator (sentence sampling).

    Returns:
      path of the written `.model` file.

    Raises:
      FileNotFoundError for inputs that match nothing; ValueError when the
      corpus is empty or too small for `vocab_size`.
    """
    num_reserved = 2 + len(CONTROL_SYMBOLS) + len(USER_DEFINED_SYMBOLS)
    if vocab_size <= num_reserved:
        raise ValueError(f"vocab_size ({vocab_size}) must exceed the {num_reserved} "
                         f"special and user-defined pieces")
    if not 0.98 <= character_coverage <= 1.0:  # SentencePiece's own range.
        raise ValueError(f"vocab_trainer: character_coverage must be in [0.98, 1], got "
                         f"{character_coverage}")
    paths = _expand_inputs(input_files)
    with tempfile.TemporaryDirectory(prefix="albert_vocab_") as tmp:
        text_path = os.path.join(tmp, "corpus.txt")
        num_lines, chars = _write_preprocessed(paths, text_path, do_lower_case)
        if num_lines == 0:
            raise ValueError(f"vocab_trainer: {', '.join(paths)} contain no text")
        if seed is not None:
            spm.set_random_generator_seed(int(seed))
        tmp_prefix = os.path.join(tmp, "spm")
        try:
            spm.SentencePieceTrainer.train(
                input=text_path,
                model_prefix=tmp_prefix,
                vocab_size=vocab_size,
                model_type="unigram",
                pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
                control_symbols=list(CONTROL_SYMBOLS),
                user_defined_symbols=list(USER_DEFINED_SYMBOLS),
                character_coverage=character_coverage,
                input_sentence_size=input_sentence_size,
                shuffle_input_sentence=shuffle_input_sentence,
                max_sentence_length=max_sentence_length,
                num_threads=num_threads or OFFICIAL_NUM_THREADS,
                minloglevel=2,
            )
        except RuntimeError as e:
            match = re.search(r"[Vv]ocab.*<= (\d+)", str(e))
            if "Vocabulary size" in str(e) or match:
                limit = f" (at most {match.group(1)} here)" if match else ""
                raise ValueError(
                    f"vocab_trainer: corpus {', '.join(paths)} ({num_lines} lines, "
                    f"{len(chars)} distinct characters) is too small for "
                    f"vocab_size={vocab_size}{limit}; use more text or a smaller "
                    f"vocab_size") from e
            raise
        model_path = str(model_prefix) + ".model"
        parent = os.path.dirname(model_path)
        if parent:
            tf.io.gfile.makedirs(parent)
        for ext in (".model", ".vocab"):
            tf.io.gfile.copy(tmp_prefix + ext, str(model_prefix) + ext, overwrite=True)
    # The released layout: <pad> <unk> [CLS] [SEP] [MASK] ( ) " - . – £ €.
    sp_model = spm_model.load_sp_model(spm_model.read_model_proto(model_path), model_path)
    spm_model.special_token_ids(sp_model, model_path)
    return model_path


if __name__ == "__main__":
    # `python -m albert_tf.tokenization.vocab_trainer` is the checkout's `albert-vocab`;
    # its flags are declared with the command (albert_tf/cli/train_vocab.py).
    from albert_tf.cli.train_vocab import run  # pylint: disable=import-outside-toplevel
    run()
