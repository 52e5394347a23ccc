"""Protocol-buffer varints, the one copy: the pretraining-data writer serializes
tf.train.Example with them and the HF tokenizer converter reads and writes
SentencePiece model protos with them, both without a protobuf runtime.

A varint is little-endian base 128: seven bits a byte, the high bit set on every byte
but the last (300 -> b"\\xac\\x02").
"""


def encode_varint(value):
    """The varint bytes of int `value`; a negative one as its 64-bit two's complement
    (ten bytes), as protobuf writes an int64 field."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def decode_varint(buffer, offset):
    """(value, offset just past it) of the varint starting at `buffer[offset]`.

    Raises:
      ValueError when `buffer` ends inside the varint.
    """
    result = shift = 0
    while True:
        if offset >= len(buffer):
            raise ValueError(f"a varint runs past the end of its {len(buffer)} bytes")
        byte = buffer[offset]
        offset += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, offset
