"""Tokenizer files for transformers' `AlbertTokenizer`, written from a SentencePiece model.

Written without transformers or tokenizers: the `tokenizer.json` pipeline is
plain JSON, the vocabulary comes from the sentencepiece library and the
normalisation table from the model's protobuf bytes.
"""

import json
import os

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

    def fields(buffer):
        i = 0
        while i < len(buffer):
            key, i = _varint(buffer, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                _, i = _varint(buffer, i)
                value = None
            elif wire == 1:
                value, i = None, i + 8
            elif wire == 5:
                value, i = None, i + 4
            elif wire == 2:
                length, i = _varint(buffer, i)
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


def _varint(buffer, i):
    result = shift = 0
    while True:
        byte = buffer[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, i


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
