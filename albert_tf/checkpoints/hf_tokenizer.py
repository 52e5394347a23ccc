"""Tokenizer files for transformers' `AlbertTokenizer`, written from a SentencePiece model.

Written without transformers or tokenizers: the `tokenizer.json` pipeline is
plain JSON, the vocabulary comes from the sentencepiece library and the
normalisation table from the model's protobuf bytes.
"""

import json
import os

from albert_tf.varint import decode_varint, encode_varint

SPM_FILE = "spiece.model"


def write_hf_tokenizer(spm_model_file, directory, max_length=512, do_lower_case=True):
    """`spiece.model`, `tokenizer.json`, `tokenizer_config.json` and
    `special_tokens_map.json` for transformers' `AlbertTokenizer`, with the
    official preprocessing (lower case when `do_lower_case`, accents stripped,
    spaces collapsed).

    `tokenizer.json` is written too because transformers 5 builds its tokenizer
    from `spiece.model` with the user-defined pieces (`( ) " - . – £ €`) as added
    tokens matched before normalisation, which splits text unlike SentencePiece
    ("transformers (formerly" loses its "▁" piece); from `tokenizer.json` it keeps
    them in the Unigram vocabulary, as SentencePiece and the Hub's albert-base-v2 do.
    """
    import shutil

    shutil.copyfile(spm_model_file, os.path.join(directory, SPM_FILE))
    special = {"bos_token": "[CLS]", "eos_token": "[SEP]", "unk_token": "<unk>",
               "sep_token": "[SEP]", "pad_token": "<pad>", "cls_token": "[CLS]",
               "mask_token": "[MASK]"}
    tokenizer_config = dict(special, tokenizer_class="AlbertTokenizer",
                            do_lower_case=bool(do_lower_case), keep_accents=False,
                            remove_space=True, model_max_length=max_length)
    for name, values in (("tokenizer_config.json", tokenizer_config),
                         ("special_tokens_map.json", special),
                         ("tokenizer.json", _tokenizer_json(spm_model_file, do_lower_case))):
        with open(os.path.join(directory, name), "w", encoding="utf-8") as f:
            json.dump(values, f, indent=2, ensure_ascii=False)
            f.write("\n")


def _precompiled_charsmap(spm_model_file):
    """`normalizer_spec.precompiled_charsmap` of a SentencePiece model, read from the
    protobuf wire format (ModelProto field 3, NormalizerSpec field 2) so that no
    protobuf runtime is needed."""
    with open(spm_model_file, "rb") as f:
        data = f.read()

    def varint(buffer, i):
        try:
            return decode_varint(buffer, i)
        except ValueError as e:
            raise ValueError(f"{spm_model_file}: not a SentencePiece model ({e})") from None

    def fields(buffer):
        i = 0
        while i < len(buffer):
            key, i = varint(buffer, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                _, i = varint(buffer, i)
                value = None
            elif wire == 1:
                value, i = None, i + 8
            elif wire == 5:
                value, i = None, i + 4
            elif wire == 2:
                length, i = varint(buffer, i)
                value, i = buffer[i:i + length], i + length
            else:
                raise ValueError(f"{spm_model_file}: not a SentencePiece model (wire type {wire})")
            yield number, value

    for number, value in fields(data):
        if number == 3:
            for inner, charsmap in fields(value):
                if inner == 2:
                    return charsmap
    return b""


def _tokenizer_json(spm_model_file, do_lower_case):
    """The `tokenizers` pipeline of the official ALBERT tokenization."""
    import base64

    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=spm_model_file)
    vocab = [[processor.id_to_piece(i), float(processor.get_score(i))]
             for i in range(processor.get_piece_size())]
    ids = {piece: i for i, (piece, _) in enumerate(vocab)}
    normalizers = [{"type": "Replace", "pattern": {"String": "``"}, "content": '"'},
                   {"type": "Replace", "pattern": {"String": "''"}, "content": '"'},
                   {"type": "NFKD"}, {"type": "StripAccents"}]
    if do_lower_case:
        normalizers.append({"type": "Lowercase"})
    charsmap = _precompiled_charsmap(spm_model_file)
    if charsmap:
        normalizers.append({"type": "Precompiled",
                            "precompiled_charsmap": base64.b64encode(charsmap).decode("ascii")})
    normalizers.append({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "})
    metaspace = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                 "split": True}

    def token(name, type_id):
        return {"SpecialToken": {"id": name, "type_id": type_id}}

    def sequence(name, type_id):
        return {"Sequence": {"id": name, "type_id": type_id}}

    added = [{"id": ids[t], "content": t, "single_word": False, "lstrip": t == "[MASK]",
              "rstrip": False, "normalized": False, "special": True}
             for t in ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]") if t in ids]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": {"type": "Sequence",
                          "pretokenizers": [{"type": "WhitespaceSplit"}, metaspace]},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [token("[CLS]", 0), sequence("A", 0), token("[SEP]", 0)],
            "pair": [token("[CLS]", 0), sequence("A", 0), token("[SEP]", 0),
                     sequence("B", 1), token("[SEP]", 1)],
            "special_tokens": {t: {"id": t, "ids": [ids[t]], "tokens": [t]}
                               for t in ("[CLS]", "[SEP]")},
        },
        "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": ids.get("<unk>", 1), "vocab": vocab,
                  "byte_fallback": False},
    }


# ------------------------------------------------------------- reading back
TOKENIZER_JSON = "tokenizer.json"
# sentencepiece_model.proto: SentencePiece.Type.
_NORMAL, _UNKNOWN, _CONTROL, _USER_DEFINED = 1, 2, 3, 4
_UNIGRAM = 1
_rebuilt_dir = None


def spm_model_from_tokenizer_json(path):
    """A SentencePiece model file rebuilt from a `tokenizer.json` (what transformers 5
    saves instead of `spiece.model`), in a folder of this process removed at exit.

    The Unigram pieces and scores and the SentencePiece normaliser's precompiled
    charsmap are all there; piece types come from the special tokens (`<unk>`
    unknown, the others control) and, for the user-defined symbols, from their
    score (exactly 0, which a trained Unigram piece never has). Raises ValueError
    naming the file when it holds no SentencePiece Unigram model.
    """
    import atexit
    import base64
    import hashlib
    import shutil
    import struct
    import tempfile

    global _rebuilt_dir
    with open(path, "rb") as f:
        raw = f.read()
    try:
        values = json.loads(raw.decode("utf-8"))
    except ValueError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    model = values.get("model") if isinstance(values, dict) else None
    kind = model.get("type") if isinstance(model, dict) else None
    if kind != "Unigram":
        raise ValueError(f"{path}: model.type is {kind!r}, but ALBERT's tokenizer is a "
                         "SentencePiece 'Unigram' model; pass the SentencePiece model "
                         "(spiece.model / 30k-clean.model) as spm_model_file")
    vocab = model.get("vocab")
    if not isinstance(vocab, list) or not vocab:
        raise ValueError(f"{path}: model.vocab must be a non-empty list of [piece, score]")
    special = {t.get("content") for t in values.get("added_tokens") or []
               if isinstance(t, dict) and t.get("special")}
    unk_id = model.get("unk_id")
    charsmap = b""
    normalizers = (values.get("normalizer") or {}).get("normalizers") or \
        [values.get("normalizer") or {}]
    for normalizer in normalizers:
        if isinstance(normalizer, dict) and normalizer.get("type") == "Precompiled":
            charsmap = base64.b64decode(normalizer.get("precompiled_charsmap") or "")

    pieces = bytearray()
    for i, entry in enumerate(vocab):
        if not (isinstance(entry, (list, tuple)) and len(entry) == 2
                and isinstance(entry[0], str)):
            raise ValueError(f"{path}: model.vocab[{i}] must be [piece, score], got "
                             f"{entry!r}")
        piece, score = entry[0], float(entry[1])
        if i == unk_id:
            kind = _UNKNOWN
        elif piece in special:
            kind = _CONTROL
        elif score == 0.0:
            kind = _USER_DEFINED
        else:
            kind = _NORMAL
        body = (_bytes_field(1, piece.encode("utf-8")) + _key(2, 5) + struct.pack("<f", score)
                + _key(3, 0) + encode_varint(kind))
        pieces += _bytes_field(1, body)
    trainer = _key(3, 0) + encode_varint(_UNIGRAM)
    if isinstance(unk_id, int):
        trainer += _key(40, 0) + encode_varint(unk_id)
    normalizer = (_bytes_field(1, b"nmt_nfkc" if charsmap else b"identity")
                  + _bytes_field(2, charsmap))
    proto = bytes(pieces) + _bytes_field(2, trainer) + _bytes_field(3, normalizer)

    if _rebuilt_dir is None:
        _rebuilt_dir = tempfile.mkdtemp(prefix="albert_tf_spm_")
        atexit.register(shutil.rmtree, _rebuilt_dir, True)
    out = os.path.join(_rebuilt_dir, hashlib.sha256(raw).hexdigest()[:16] + ".model")
    with open(out, "wb") as f:
        f.write(proto)
    return out


def find_hf_spm_model(directory):
    """`spiece.model` of a transformers folder, else one rebuilt from its
    `tokenizer.json`, else None."""
    spm = os.path.join(str(directory), SPM_FILE)
    if os.path.isfile(spm):
        return spm
    tokenizer = os.path.join(str(directory), TOKENIZER_JSON)
    if os.path.isfile(tokenizer):
        return spm_model_from_tokenizer_json(tokenizer)
    return None


def _key(number, wire):
    return encode_varint(number << 3 | wire)


def _bytes_field(number, data):
    return _key(number, 2) + encode_varint(len(data)) + data
