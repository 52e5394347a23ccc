"""Test doubles shared by tests/data/test_pretraining_*.py."""

import numpy as np

from albert_tf.pretraining_data import masking as pretraining_masking

# A tiny vocabulary laid out like the released one (specials at 0..4).
TINY_PIECES = ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]",
               "\u2581a", "\u2581b", "\u2581c", "\u2581d", "\u2581hel", "lo", "\u2581world",
               "s", "ing", ",", "\u2581x"]
TINY_IDS = {piece: i for i, piece in enumerate(TINY_PIECES)}
CLS, SEP, MASK = 2, 3, 4


def tiny_ids(*pieces):
    return [TINY_IDS[p] for p in pieces]


def tiny_start_table():
    return pretraining_masking.start_piece_table(TINY_PIECES)


class ScriptedRandom:
    """Replays scripted draws and checks each call's arguments.

    `script` is a list of (method, args, value): e.g. ("random", (), 0.3),
    ("randint", (1, 2), 2), ("randrange", (0, 4), 1).
    """

    def __init__(self, script):
        self._script = list(script)

    def _next(self, method, args):
        assert self._script, f"unexpected call {method}{args}: script exhausted"
        expected_method, expected_args, value = self._script.pop(0)
        assert (method, args) == (expected_method, expected_args), \
            f"call {method}{args}, script expected {expected_method}{expected_args}"
        return value

    def random(self):
        return self._next("random", ())

    def randint(self, a, b):
        return self._next("randint", (a, b))

    def randrange(self, a, b=None):
        args = (a,) if b is None else (a, b)
        return self._next("randrange", args)

    def shuffle(self, items):
        order = self._next("shuffle", (len(items),))
        items[:] = [items[i] for i in order]

    def assert_done(self):
        assert not self._script, f"unused script entries: {self._script}"


def masked_word_runs(masked, token_boundary, input_mask, special):
    """Lengths (in words) of maximal runs of masked words in one sequence.

    A word starts at token_boundary == 1 (or the first real token); a word is
    masked if its first piece is. Runs stop at [CLS]/[SEP].
    """
    runs = []
    current = 0
    seen_word = False
    for i in range(len(masked)):
        if not input_mask[i]:
            break
        if special[i]:
            continue
        if token_boundary[i] or not seen_word:
            seen_word = True
            if masked[i]:
                current += 1
            else:
                if current:
                    runs.append(current)
                current = 0
    if current:
        runs.append(current)
    return runs


def run_histogram(runs, max_len=6):
    counts = np.bincount(np.minimum(np.asarray(runs, dtype=np.int64), max_len),
                         minlength=max_len + 1)[1:]
    return counts / max(1, counts.sum())
