"""Protocol-buffer varints against bytes worked out by hand (7 bits a byte, low first,
the high bit on every byte but the last)."""

import pytest

from albert_tf.varint import decode_varint, encode_varint

# 300 = 0b10_0101100: low seven bits 0101100 (0x2c) | 0x80 = 0xac, then 0b10 = 0x02.
# 16384 = 2**14: two zero groups with the high bit, then 1.
# -1 as int64: 64 one-bits = nine 0xff groups of seven, then the last bit.
HAND_WORKED = [(0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"),
               (300, b"\xac\x02"), (16384, b"\x80\x80\x01"),
               (2 ** 63 - 1, b"\xff" * 8 + b"\x7f"), (-1, b"\xff" * 9 + b"\x01")]


@pytest.mark.parametrize("value, expected", HAND_WORKED)
def test_encode_varint(value, expected):
    assert encode_varint(value) == expected


def test_decode_varint_at_an_offset_and_past_the_end():
    buffer = b"\x07" + b"\xac\x02" + b"\x80\x80\x01" + b"\x7f"
    assert decode_varint(buffer, 1) == (300, 3)
    assert decode_varint(buffer, 3) == (16384, 6)
    assert decode_varint(buffer, 6) == (127, 7)
    assert decode_varint(b"\xff" * 9 + b"\x01", 0) == (2 ** 64 - 1, 10)
    with pytest.raises(ValueError, match="runs past the end of its 2 bytes"):
        decode_varint(b"\x07\xac", 1)
