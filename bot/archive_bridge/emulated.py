"""The emulator's stand-in for the payload that Tencent's DecryptData opens.

What the real SDK expects is not documented. Probing the real `libWeWorkFinanceSdk_C.so` here shows it is a
proprietary structure: DecryptData takes `substr(13, 32)` of the message and parses a protobuf (`SdkKeyInfo`)
before an AES-256-CBC step — a string shorter than 13 characters aborts the process (`std::out_of_range`), other
garbage returns 10008. Building that structure would be guessing, so the emulator uses a plain, documented format
of the same shape instead, and the emulator-side "SDK" imitates the observed abort:

    encrypt_chat_msg = base64(AES-256-CBC(key = the 32-byte random key, iv = key[:16], PKCS#7(JSON of the message)))

Everything around it — RSA PKCS#1 v1.5 of the random key with the enterprise's public key of `publickey_ver`,
the record fields, seq order — is the real format, and the bridge's code for it is the same in both modes.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ABORT_BELOW = 13  # the real SDK aborts on a message shorter than this (measured)


class EmulatedDecryptError(Exception):
    """The imitation of 10008: the message does not open with this key."""


def new_random_key() -> str:
    # 32 printable characters, like the keys the real archive hands out
    return base64.b64encode(os.urandom(24)).decode()


def encrypt_chat_msg(random_key: str, msg: dict[str, Any]) -> str:
    key = random_key.encode()
    if len(key) != 32:
        raise ValueError("random key must be 32 bytes")
    padder = padding.PKCS7(128).padder()
    data = padder.update(json.dumps(msg, ensure_ascii=False).encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(data) + enc.finalize()).decode()


def decrypt_chat_msg(random_key: str, encrypted: str) -> dict[str, Any]:
    key = random_key.encode()
    try:
        raw = base64.b64decode(encrypted, validate=True)
        if len(key) != 32 or not raw or len(raw) % 16:
            raise ValueError("bad length")
        dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        unpadder = padding.PKCS7(128).unpadder()
        plain = unpadder.update(dec.update(raw) + dec.finalize()) + unpadder.finalize()
        msg = json.loads(plain)
    except ValueError as exc:  # binascii.Error and JSONDecodeError are ValueErrors
        raise EmulatedDecryptError("DecryptMsg") from exc
    if not isinstance(msg, dict):
        raise EmulatedDecryptError("DecryptMsg")
    return msg
