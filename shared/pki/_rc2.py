"""RC2-CBC encryption (RFC 2268) with a chosen effective key length.

Only needed for PKCS#12's pbeWithSHAAnd40BitRC2-CBC, which cert-manager's default
LegacyRC2 keystore profile uses; `cryptography` offers RC2 with 128-bit keys only.
"""

from __future__ import annotations

from typing import Final

# RFC 2268 section 2: PITABLE, a permutation of 0..255 derived from the digits of pi.
_PITABLE: Final = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)
_MASK: Final = 0xFFFF


def expand_key(key: bytes, effective_bits: int) -> list[int]:
    """The 64 16-bit subkeys K[0..63]."""
    if not 1 <= len(key) <= 128 or not 1 <= effective_bits <= 1024:
        raise ValueError("RC2 key must be 1..128 bytes with 1..1024 effective bits")
    buf = bytearray(key) + bytearray(128 - len(key))
    t = len(key)
    for i in range(t, 128):
        buf[i] = _PITABLE[(buf[i - 1] + buf[i - t]) & 0xFF]
    t8 = (effective_bits + 7) // 8
    tm = 0xFF >> (8 * t8 - effective_bits)
    buf[128 - t8] = _PITABLE[buf[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        buf[i] = _PITABLE[buf[i + 1] ^ buf[i + t8]]
    return [buf[2 * i] | (buf[2 * i + 1] << 8) for i in range(64)]


def encrypt_block(subkeys: list[int], block: bytes) -> bytes:
    r = [block[2 * i] | (block[2 * i + 1] << 8) for i in range(4)]
    j = 0
    for rounds, mash_after in ((5, True), (6, True), (5, False)):
        for _ in range(rounds):
            for i, shift in enumerate((1, 2, 3, 5)):
                r[i] = (
                    r[i]
                    + subkeys[j]
                    + (r[(i + 3) % 4] & r[(i + 2) % 4])
                    + (~r[(i + 3) % 4] & r[(i + 1) % 4])
                ) & _MASK
                r[i] = ((r[i] << shift) | (r[i] >> (16 - shift))) & _MASK
                j += 1
        if mash_after:
            for i in range(4):
                r[i] = (r[i] + subkeys[r[(i + 3) % 4] & 63]) & _MASK
    return b"".join(w.to_bytes(2, "little") for w in r)


def cbc_encrypt(*, key: bytes, effective_bits: int, iv: bytes, plaintext: bytes) -> bytes:
    """CBC with PKCS#7 padding, as PKCS#12 uses."""
    subkeys = expand_key(key, effective_bits)
    pad = 8 - len(plaintext) % 8
    data = plaintext + bytes([pad]) * pad
    out = bytearray()
    previous = iv
    for offset in range(0, len(data), 8):
        block = bytes(a ^ b for a, b in zip(data[offset : offset + 8], previous, strict=True))
        previous = encrypt_block(subkeys, block)
        out += previous
    return bytes(out)
