"""Sentence-order (SOP) pairs from documents, as in ALBERT's create_pretraining_data.py.

A document is a sequence of sentences; a sentence is a list of token ids.
`create_instances_from_document` follows the official algorithm step by step
(the same calls on `rng`: `random()` and `randint(a, b)`), so hand-worked
examples can drive it with a scripted rng:

- A target length is drawn once per document: `max_seq_length - 3`, or with
  probability `short_seq_prob` a uniform length in [2, max_seq_length - 3].
- Sentences are collected into a chunk until it reaches the target (or the
  document ends). A random `a_end` in [1, len(chunk) - 1] splits the chunk
  into A and B.
- A chunk of one sentence (or, with `random_next_sentence`, half of all
  chunks) takes B from a random other document, starting at a random sentence
  and running up to the remaining target; label 1. The chunk's unused
  sentences are put back.
- Otherwise, half of the time A and B are swapped (label 1, "swapped"), else
  kept in order (label 0).
- `truncate_seq_pair` then trims the longer side, one token at a time, from
  the front or the back at random.
"""

import dataclasses


@dataclasses.dataclass
class SentencePair:
    """Segments A and B (ids, without special tokens) and the SOP label.

    is_random_next: True when B is swapped with A or comes from another
    document; written as `next_sentence_labels` = 1.
    """
    tokens_a: list
    tokens_b: list
    is_random_next: bool


def truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, rng):
    """Truncates A and B in place until len(A) + len(B) <= max_num_tokens.

    Each step removes one token from the longer list (B on ties), from the
    front if `rng.random() < 0.5`, else from the back (official behaviour).
    """
    len_a, len_b = len(tokens_a), len(tokens_b)
    front_a = back_a = front_b = back_b = 0
    while len_a + len_b > max_num_tokens:
        from_front = rng.random() < 0.5
        if len_a > len_b:
            if from_front:
                front_a += 1
            else:
                back_a += 1
            len_a -= 1
        else:
            if from_front:
                front_b += 1
            else:
                back_b += 1
            len_b -= 1
    # One slice per list instead of O(n) deletions per token.
    tokens_a[:] = tokens_a[front_a:front_a + len_a]
    tokens_b[:] = tokens_b[front_b:front_b + len_b]


def create_instances_from_document(documents, document_index, max_seq_length,
                                   short_seq_prob, rng, random_next_sentence=False):
    """SOP pairs from `documents[document_index]`.

    Args:
      documents: sequence of documents (each a sequence of non-empty sentences,
        each a list of ids); random B segments are drawn from these.
      document_index: which document to split.
      max_seq_length: sequence length including [CLS], [SEP], [SEP].
      short_seq_prob: probability of a shorter target length for this document.
      rng: `random.Random` (or anything with `random()` and `randint(a, b)`).
      random_next_sentence: official flag; when True, B comes from another
        document half of the time instead of swapping A and B.

    Returns:
      list of `SentencePair`, each with len(A) + len(B) <= max_seq_length - 3
      and both non-empty.
    """
    document = documents[document_index]
    max_num_tokens = max_seq_length - 3
    if max_num_tokens < 2:
        raise ValueError(f"max_seq_length ({max_seq_length}) must be >= 5")

    target_seq_length = max_num_tokens
    if rng.random() < short_seq_prob:
        target_seq_length = rng.randint(2, max_num_tokens)

    pairs = []
    current_chunk = []
    current_length = 0
    i = 0
    while i < len(document):
        segment = document[i]
        current_chunk.append(segment)
        current_length += len(segment)
        if i == len(document) - 1 or current_length >= target_seq_length:
            a_end = 1
            if len(current_chunk) >= 2:
                a_end = rng.randint(1, len(current_chunk) - 1)
            tokens_a = [t for sentence in current_chunk[:a_end] for t in sentence]
            tokens_b = []
            if len(current_chunk) == 1 or (random_next_sentence and rng.random() < 0.5):
                is_random_next = True
                target_b_length = target_seq_length - len(tokens_a)
                # Official: up to 10 tries to pick a document other than this one.
                for _ in range(10):
                    random_document_index = rng.randint(0, len(documents) - 1)
                    if random_document_index != document_index:
                        break
                random_document = documents[random_document_index]
                random_start = rng.randint(0, len(random_document) - 1)
                for j in range(random_start, len(random_document)):
                    tokens_b.extend(random_document[j])
                    if len(tokens_b) >= target_b_length:
                        break
                # Put the chunk's unused sentences back.
                i -= len(current_chunk) - a_end
            elif not random_next_sentence and rng.random() < 0.5:
                is_random_next = True
                tokens_b = [t for sentence in current_chunk[a_end:] for t in sentence]
                tokens_a, tokens_b = tokens_b, tokens_a
            else:
                is_random_next = False
                tokens_b = [t for sentence in current_chunk[a_end:] for t in sentence]
            truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, rng)
            if not tokens_a or not tokens_b:
                raise AssertionError(
                    f"empty segment in document {document_index}: sentences must be non-empty")
            pairs.append(SentencePair(tokens_a, tokens_b, is_random_next))
            current_chunk = []
            current_length = 0
        i += 1
    return pairs


def pack_pair(pair, cls_id, sep_id):
    """`[CLS] A [SEP] B [SEP]` ids and segment ids (0 for A and its [SEP], 1 for B)."""
    tokens = [cls_id] + pair.tokens_a + [sep_id] + pair.tokens_b + [sep_id]
    segment_ids = [0] * (len(pair.tokens_a) + 2) + [1] * (len(pair.tokens_b) + 1)
    return tokens, segment_ids
