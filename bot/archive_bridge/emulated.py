"""The format inside a chat-archive record, as Tencent's DecryptData reads it — for the emulator, which seals
records with it, and for the emulator-mode SDK child, which opens them in Python.

Tencent does not document it. This is what the real `libWeWorkFinanceSdk_C.so` does (read from its code and
checked against it: tests/archive_bridge/test_archive_bridge_sdk.py has the real DecryptData open what `seal`
makes). Its own protobuf descriptor names the inner message: `SdkKeyInfo {string k1 = 1; int32 pre_len = 2;
int32 end_len = 3; int32 s_len = 4}`.

    random key (what RSA gives back from encrypt_random_key) = base64(iv ‖ AES-256-CBC(key = t, iv, SdkKeyInfo))
    encrypt_chat_msg = 13 characters ‖ t (32 characters) ‖ pre_len characters ‖ X
    X = C[:s_len] ‖ s_len characters ‖ C[s_len:] ‖ end_len characters
    C = base64(iv ‖ AES-256-CBC(key = k1, iv, JSON of the message))       (PKCS#7 padding; keys zero-padded to 32)

DecryptData takes `t = msg[13:45]` without a length check: a message shorter than 13 characters throws
std::out_of_range and aborts the process (so does an `s_len` beyond the rest). Other failures are error codes:
the SdkKeyInfo does not open (10008), its lengths do not fit the message (10005), the message does not open (10006).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import string
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ABORT_BELOW = 13  # the real SDK aborts on a message shorter than this (measured)
_ALPHABET = string.ascii_letters + string.digits


class EmulatedDecryptError(Exception):
    """The SDK's error code for a record that does not open."""

    def __init__(self, code: int) -> None:
        super().__init__(f"DecryptData {code}")
        self.code = code


class WouldAbort(Exception):
    """Where the real SDK throws std::out_of_range and the process dies."""


def _text(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def _key32(key: str) -> bytes:
    return key.encode()[:32].ljust(32, b"\0")


def _seal_aes(key: str, data: bytes) -> str:
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(_key32(key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(padder.update(data) + padder.finalize()) + enc.finalize()).decode()


def _open_aes(key: str, sealed: str) -> bytes:
    raw = base64.b64decode(sealed + "=" * (-len(sealed) % 4))
    if len(raw) < 32 or len(raw) % 16:
        raise ValueError("bad length")
    dec = Cipher(algorithms.AES(_key32(key)), modes.CBC(raw[:16])).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(dec.update(raw[16:]) + dec.finalize()) + unpadder.finalize()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _key_info(k1: str, pre_len: int, end_len: int, s_len: int) -> bytes:
    kb = k1.encode()
    return (
        b"\x0a" + _varint(len(kb)) + kb + b"\x10" + _varint(pre_len) + b"\x18" + _varint(end_len)
        + b"\x20" + _varint(s_len)
    )  # fmt: skip


def _parse_key_info(data: bytes) -> tuple[str, int, int, int]:
    fields: dict[int, Any] = {}
    i = 0
    while i < len(data):
        tag, i = _read_varint(data, i)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            fields[number], i = _read_varint(data, i)
        elif wire == 2:
            size, i = _read_varint(data, i)
            fields[number], i = data[i : i + size].decode(), i + size
        else:
            raise ValueError("unexpected wire type")
    return str(fields.get(1, "")), int(fields.get(2, 0)), int(fields.get(3, 0)), int(fields.get(4, 0))


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated")
        b = data[i]
        result |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return result, i
        shift += 7


def seal(msg: dict[str, Any]) -> tuple[str, str]:
    """(random key, encrypt_chat_msg) for one message; the caller RSA-encrypts the random key."""
    t, k1 = _text(32), _text(32)
    body = _seal_aes(k1, json.dumps(msg, ensure_ascii=False).encode())
    pre_len, end_len = 1 + secrets.randbelow(16), 1 + secrets.randbelow(16)
    s_len = 1 + secrets.randbelow(min(16, len(body)))
    x = body[:s_len] + _text(s_len) + body[s_len:] + _text(end_len)
    return _seal_aes(t, _key_info(k1, pre_len, end_len, s_len)), _text(13) + t + _text(pre_len) + x


def open_record(random_key: str, encrypted: str) -> dict[str, Any]:
    """DecryptData in Python: the same checks in the same order, WouldAbort where the real one dies."""
    if len(encrypted) < ABORT_BELOW:
        raise WouldAbort("basic_string::basic_string")
    t = encrypted[13:45]
    try:
        k1, pre_len, end_len, s_len = _parse_key_info(_open_aes(t, random_key))
    except (ValueError, UnicodeDecodeError):
        raise EmulatedDecryptError(10008) from None
    if s_len <= 0 or 2 * s_len >= len(encrypted) or pre_len + 45 > len(encrypted):
        raise EmulatedDecryptError(10005)
    x = encrypted[pre_len + 45 :]
    if s_len > len(x):
        raise WouldAbort("basic_string::_M_mutate")
    x = x[:s_len] + x[s_len + min(len(x) - s_len, s_len) :]
    if end_len > len(x):
        raise EmulatedDecryptError(10005)
    x = x[: len(x) - end_len]
    try:
        msg = json.loads(_open_aes(k1, x))
    except (ValueError, UnicodeDecodeError):
        raise EmulatedDecryptError(10006) from None
    if not isinstance(msg, dict):
        raise EmulatedDecryptError(10006)
    return msg


def looks_like_random_key(random_key: str) -> bool:
    """What DecryptData needs of its key argument: base64 of an IV and at least one AES block."""
    try:
        raw = base64.b64decode(random_key + "=" * (-len(random_key) % 4), validate=True)
    except ValueError:
        return False
    return len(raw) >= 32 and len(raw) % 16 == 0
