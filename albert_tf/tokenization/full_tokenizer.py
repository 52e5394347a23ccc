"""Python-side ALBERT tokenizer (SentencePiece + preprocessing)."""

from albert_tf.tokenization import encoding
from albert_tf.tokenization import spm_model
from albert_tf.tokenization.preprocess import preprocess_text


class FullTokenizer:
    """ALBERT's SentencePiece tokenizer.

    Unlike the official `FullTokenizer.tokenize`, which expects its caller to have
    run `preprocess_text` first, `tokenize(text)` preprocesses by default
    (`preprocess_text(text, lower=do_lower_case)`); pass `preprocess=False` for
    text that is already preprocessed, exactly like the official method.
    Preprocessing twice can only change whitespace, which SentencePiece
    collapses: the ids were identical for all 156,350 SQuAD/RACE/GLUE texts
    and for every code point tried in "a{c}b {c}".

    Picklable: the state is the model proto bytes, so worker processes get an
    identical tokenizer without re-reading the file.

    Attributes:
      sp_model: the `sentencepiece.SentencePieceProcessor`.
      do_lower_case: whether `tokenize` lower-cases.
      vocab: dict piece -> id; inv_vocab: dict id -> piece; vocab_size: int.
      pad_id, unk_id, cls_id, sep_id, mask_id: ids of `<pad>`, `<unk>`, `[CLS]`,
        `[SEP]`, `[MASK]` (0..4 in the released 30k-clean model).
    """

    def __init__(self, spm_model_file, do_lower_case=True, require_special_tokens=True):
        self.spm_model_file = str(spm_model_file)
        self.do_lower_case = bool(do_lower_case)
        self.require_special_tokens = bool(require_special_tokens)
        self._setup(spm_model.read_model_proto(self.spm_model_file))

    def _setup(self, model_proto):
        self.model_proto = model_proto
        self.sp_model = spm_model.load_sp_model(model_proto, self.spm_model_file)
        self.vocab_size = self.sp_model.get_piece_size()
        self.vocab = {self.sp_model.id_to_piece(i): i for i in range(self.vocab_size)}
        self.inv_vocab = {i: piece for piece, i in self.vocab.items()}
        ids = spm_model.special_token_ids(self.sp_model, self.spm_model_file,
                                          self.require_special_tokens)
        self.pad_id = ids["pad_id"]
        self.unk_id = ids["unk_id"]
        self.cls_id = ids["cls_id"]
        self.sep_id = ids["sep_id"]
        self.mask_id = ids["mask_id"]

    def __getstate__(self):
        return {"spm_model_file": self.spm_model_file,
                "do_lower_case": self.do_lower_case,
                "require_special_tokens": self.require_special_tokens,
                "model_proto": self.model_proto}

    def __setstate__(self, state):
        self.spm_model_file = state["spm_model_file"]
        self.do_lower_case = state["do_lower_case"]
        self.require_special_tokens = state["require_special_tokens"]
        self._setup(state["model_proto"])

    def preprocess(self, text):
        """`preprocess_text(text, lower=do_lower_case)`."""
        return preprocess_text(text, lower=self.do_lower_case)

    def tokenize(self, text, preprocess=True, sample=False):
        """Text -> list of pieces (no special tokens); see the class docstring."""
        if preprocess:
            text = self.preprocess(text)
        return encoding.encode_pieces(self.sp_model, text, sample=sample)

    def encode(self, text, preprocess=True, sample=False):
        """Text -> list of int ids (no special tokens)."""
        return self.convert_tokens_to_ids(
            self.tokenize(text, preprocess=preprocess, sample=sample))

    def convert_tokens_to_ids(self, tokens):
        """Pieces -> ids; a piece not in the vocabulary maps to `unk_id` (SentencePiece's rule)."""
        return [self.sp_model.piece_to_id(token) for token in tokens]

    def convert_ids_to_tokens(self, ids):
        """Ids -> pieces; raises IndexError naming an out-of-range id."""
        tokens = []
        for i in ids:
            i = int(i)
            if not 0 <= i < self.vocab_size:
                raise IndexError(
                    f"id {i} out of range for {self.spm_model_file} "
                    f"(vocab_size {self.vocab_size})")
            tokens.append(self.inv_vocab[i])
        return tokens
