"""Loading a SentencePiece model and finding ALBERT's special pieces in it."""

import sentencepiece as spm
import tensorflow as tf

PAD_PIECE = "<pad>"
UNK_PIECE = "<unk>"
CLS_PIECE = "[CLS]"
SEP_PIECE = "[SEP]"
MASK_PIECE = "[MASK]"


def read_model_proto(spm_model_file):
    """Returns the serialized ModelProto bytes of `spm_model_file` (any tf.io.gfile path)."""
    path = str(spm_model_file)
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"SentencePiece model file not found: {path}")
    with tf.io.gfile.GFile(path, "rb") as f:
        model_proto = f.read()
    if not model_proto:
        raise ValueError(f"{path}: SentencePiece model file is empty")
    return model_proto


def load_sp_model(model_proto, spm_model_file="<model_proto>"):
    """Builds a `SentencePieceProcessor` from serialized bytes; names the file on failure."""
    sp_model = spm.SentencePieceProcessor()
    try:
        sp_model.load_from_serialized_proto(model_proto)
    except (RuntimeError, OSError) as e:
        raise ValueError(f"{spm_model_file}: not a valid SentencePiece model ({e})") from e
    return sp_model


def special_token_ids(sp_model, spm_model_file, require_special_tokens=True):
    """Finds the ids of ALBERT's special pieces by name.

    Returns:
      dict with keys pad_id, unk_id, cls_id, sep_id, mask_id (ints; `None` for a
      missing [CLS]/[SEP]/[MASK] when `require_special_tokens` is False). A model
      without `<pad>` pads with id 0, as the official code does; `unk_id` falls
      back to the model's own unknown id.

    Raises:
      ValueError naming the file and the missing pieces.
    """
    def find(piece):
        piece_id = sp_model.piece_to_id(piece)
        return piece_id if sp_model.id_to_piece(piece_id) == piece else None

    ids = {
        "pad_id": find(PAD_PIECE),
        "unk_id": find(UNK_PIECE),
        "cls_id": find(CLS_PIECE),
        "sep_id": find(SEP_PIECE),
        "mask_id": find(MASK_PIECE),
    }
    missing = [piece for piece, key in ((CLS_PIECE, "cls_id"), (SEP_PIECE, "sep_id"),
                                        (MASK_PIECE, "mask_id")) if ids[key] is None]
    if missing and require_special_tokens:
        raise ValueError(
            f"{spm_model_file}: SentencePiece model lacks the ALBERT special "
            f"piece(s) {', '.join(missing)}; train it with control symbols "
            f"[CLS],[SEP],[MASK] (see albert_tf.tokenization.vocab_trainer) or pass "
            f"require_special_tokens=False")
    if ids["pad_id"] is None:
        ids["pad_id"] = 0
    if ids["unk_id"] is None:
        ids["unk_id"] = sp_model.unk_id()
    return ids
