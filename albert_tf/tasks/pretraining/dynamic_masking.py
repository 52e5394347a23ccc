"""Dynamic masking: re-draws ALBERT's whole-word n-gram masks inside tf.data.

The official release writes `token_boundary` so that masks could be drawn on
the fly but never shipped that code. `dynamic_masking_fn` builds a graph-only
map function that, for a batch of parsed examples, restores the original ids
from the stored masked_lm_* features and draws new masks with the same
statistics as `pretraining_masking.create_masked_lm_predictions`:

- words start at token_boundary == 1 (and at the first real token); [CLS],
  [SEP] and padding are never candidates or masked;
- budget min(max_predictions_per_seq, max(1, round(num_tokens * masked_lm_prob)))
  with num_tokens = sum(input_mask), rounded half to even in float64 like
  Python's `round`;
- candidate words in random order, n-gram length n <= ngram with p(n)
  proportional to 1/n, shrunk to fit the budget, skipped on overlap;
- 80% [MASK], 10% unchanged, 10% uniformly random id in [0, vocab_size).

Randomness is stateless: every batch gets its own seed, so masks are
reproducible for a given seed and element order and differ between epochs.
The permutation-LM variant (`do_permutation`) is not redrawn.
"""

import tensorflow as tf

from albert_tf.pretraining_data import masking as pretraining_masking


def dynamic_masking_fn(max_predictions_per_seq, vocab_size, cls_id, sep_id, mask_id,
                       masked_lm_prob=0.15, ngram=3, favor_shorter_ngram=True):
    """Returns `fn(features, seed) -> features` for a batch of parsed examples.

    `features` holds int32 input_ids, input_mask, token_boundary
    [batch, max_seq_length], masked_lm_positions and masked_lm_ids
    [batch, max_predictions_per_seq] and float32 masked_lm_weights; `seed` is
    a [2] int64 tensor (one per batch). input_ids and the masked_lm_* features
    are replaced; the other features pass through. Working on whole batches
    runs the greedy selection loop once for all rows, which is far cheaper
    than one loop per example.
    """
    if vocab_size is None or vocab_size < 1:
        raise ValueError(f"dynamic masking needs vocab_size >= 1, got {vocab_size}")
    if max_predictions_per_seq < 1:
        raise ValueError(
            f"max_predictions_per_seq ({max_predictions_per_seq}) must be >= 1")
    probs = pretraining_masking.ngram_probabilities(ngram, favor_shorter_ngram)
    # Inner edges of the cumulative distribution; n = 1 + #edges <= u.
    edges = [sum(probs[:n]) for n in range(1, ngram)] or [2.0]
    num_slots = max_predictions_per_seq

    def fn(features, seed):
        input_ids = features["input_ids"]
        dtype = input_ids.dtype
        seq_length = input_ids.shape[-1]
        shape = tf.shape(input_ids)
        positions = tf.range(seq_length)[None, :]  # [1, L]

        # Undo the stored mask: put the original ids back.
        stored = features["masked_lm_weights"] > 0  # [B, P]
        hits = tf.one_hot(features["masked_lm_positions"], seq_length, dtype=tf.int32)
        hits *= tf.cast(stored, tf.int32)[:, :, None]  # [B, P, L]
        restored = tf.reduce_max(hits, axis=1) > 0
        stored_ids = tf.reduce_sum(hits * tf.cast(features["masked_lm_ids"], tf.int32)[:, :, None],
                                   axis=1)
        original = tf.where(restored, tf.cast(stored_ids, dtype), input_ids)

        valid = ((features["input_mask"] > 0) & (original != cls_id) & (original != sep_id))
        valid_int = tf.cast(valid, tf.int32)
        first_valid = valid & (tf.cumsum(valid_int, axis=1) == 1)
        word_start = valid & ((features["token_boundary"] > 0) | first_valid)
        word_index = tf.cumsum(tf.cast(word_start, tf.int32), axis=1) - 1  # [B, L]
        num_words = tf.reduce_sum(tf.cast(word_start, tf.int32), axis=1)  # [B]
        total_valid = tf.reduce_sum(valid_int, axis=1)
        # words_before[:, k] = real tokens in words 0..k-1 (k <= num_words).
        start_positions = tf.argsort(tf.where(word_start, positions, seq_length + positions),
                                     axis=1, stable=True)
        valid_before = tf.cumsum(valid_int, axis=1, exclusive=True)
        words_before = tf.where(positions < num_words[:, None],
                                tf.gather(valid_before, start_positions, batch_dims=1),
                                total_valid[:, None])
        words_before = tf.concat([words_before, total_valid[:, None]], axis=1)  # [B, L+1]

        if masked_lm_prob == 0:
            budget = tf.zeros_like(num_words)
        else:
            num_tokens = tf.reduce_sum(tf.cast(features["input_mask"] > 0, tf.float64), axis=1)
            budget = tf.cast(tf.round(num_tokens * masked_lm_prob), tf.int32)
            budget = tf.minimum(max_predictions_per_seq, tf.maximum(1, budget))

        seeds = tf.random.experimental.stateless_split(seed, num=4)
        keys = tf.random.stateless_uniform(shape, seeds[0])
        order = tf.argsort(tf.where(positions < num_words[:, None], keys, 2.0),
                           axis=1, stable=True)  # random order of the words
        draws = tf.random.stateless_uniform(shape, seeds[1])
        ngram_draw = 1 + tf.reduce_sum(
            tf.cast(draws[:, :, None] >= tf.constant(edges, tf.float32), tf.int32), axis=2)
        ngram_lengths = tf.range(1, ngram + 1)[None, :]  # [1, N]

        def active(t, count):
            return (t < num_words) & (count < budget)

        def cond(t, count, covered):
            return tf.reduce_any(active(t, count))

        def body(t, count, covered):
            start = tf.gather(order, tf.fill([shape[0], 1], t), batch_dims=1)  # [B, 1]
            n = tf.gather(ngram_draw, tf.fill([shape[0], 1], t), batch_dims=1)
            first = tf.gather(words_before, start, batch_dims=1)
            ends = tf.minimum(start + ngram_lengths, num_words[:, None])  # [B, N]
            sizes = tf.gather(words_before, ends, batch_dims=1) - first
            fits = (ngram_lengths <= n) & (count[:, None] + sizes <= budget[:, None])
            m = tf.reduce_max(tf.where(fits, ngram_lengths, 0), axis=1)  # [B]
            end = tf.minimum(start[:, 0] + m, num_words)
            in_ngram = (positions >= start) & (positions < end[:, None])  # [B, L]
            accept = (active(t, count) & (m > 0)
                      & tf.logical_not(tf.reduce_any(in_ngram & covered, axis=1)))
            covered = covered | (in_ngram & accept[:, None])
            size = tf.gather(words_before, end[:, None], batch_dims=1)[:, 0] - first[:, 0]
            return t + 1, count + tf.where(accept, size, 0), covered

        _, _, covered = tf.while_loop(
            cond, body,
            (tf.constant(0), tf.zeros_like(num_words), tf.zeros(shape, tf.bool)))
        masked = valid & tf.gather(covered, tf.maximum(word_index, 0), batch_dims=1)

        replace = tf.random.stateless_uniform(shape, seeds[2])
        random_ids = tf.random.stateless_uniform(
            shape, seeds[3], minval=0, maxval=vocab_size, dtype=tf.int32)
        new_ids = tf.where(masked & (replace < 0.8), tf.cast(mask_id, dtype),
                           tf.where(masked & (replace >= 0.9), tf.cast(random_ids, dtype),
                                    original))

        # Masked positions in ascending order, padded with zeros (at most
        # budget <= max_predictions_per_seq of them).
        slots = tf.sort(tf.where(masked, positions, seq_length), axis=1)[:, :num_slots]
        slots = tf.pad(slots, [[0, 0], [0, max(0, num_slots - seq_length)]],
                       constant_values=seq_length)
        real = slots < seq_length
        masked_positions = tf.where(real, slots, 0)
        out = dict(features)
        out["input_ids"] = new_ids
        out["masked_lm_positions"] = tf.cast(masked_positions,
                                             features["masked_lm_positions"].dtype)
        masked_ids = tf.where(real, tf.gather(original, masked_positions, batch_dims=1),
                              tf.zeros_like(masked_positions, dtype))
        out["masked_lm_ids"] = tf.cast(masked_ids, features["masked_lm_ids"].dtype)
        out["masked_lm_weights"] = tf.cast(real, features["masked_lm_weights"].dtype)
        return out

    return fn
