"""The enterprise's RSA private keys, one per `publickey_ver` (the admin console numbers each uploaded public key;
after a rotation, records still carry the old version for a while, so every version in use stays configured).

Errors name the version and the file, never the key's text.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bot.archive_bridge.emulated import looks_like_random_key


class KeyProblem(Exception):
    """A configuration problem with the private keys: the bridge stops on the record instead of skipping it."""


class PrivateKeys:
    def __init__(self, keys: Mapping[int, rsa.RSAPrivateKey]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_files(cls, files: Mapping[str, str]) -> PrivateKeys:
        keys: dict[int, rsa.RSAPrivateKey] = {}
        for ver, path in files.items():
            try:
                version = int(ver)
            except ValueError:
                raise KeyProblem(f"private_keys 的版本号必须是数字，现在是“{ver}”") from None
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise KeyProblem(f"读不到第 {version} 版私钥文件 {path}：{exc.strerror}") from None
            try:
                key = serialization.load_pem_private_key(data, password=None)
            except (ValueError, TypeError):
                raise KeyProblem(f"第 {version} 版私钥文件 {path} 不是 PEM 格式的 RSA 私钥（或设了密码）") from None
            if not isinstance(key, rsa.RSAPrivateKey):
                raise KeyProblem(f"第 {version} 版私钥文件 {path} 不是 RSA 私钥")
            keys[version] = key
        return cls(keys)

    @property
    def versions(self) -> list[int]:
        return sorted(self._keys)

    def __repr__(self) -> str:  # never the key material
        return f"PrivateKeys(versions={self.versions})"

    def decrypt_random_key(self, version: int, encrypt_random_key: str) -> str:
        key = self._keys.get(version)
        if key is None:
            have = "、".join(map(str, self.versions)) or "无"
            raise KeyProblem(f"缺少第 {version} 版私钥（已配置：{have}）：在 [archive] private_keys 里补上")
        try:
            raw = base64.b64decode(encrypt_random_key, validate=True)
            plain = key.decrypt(raw, padding.PKCS1v15()).decode("ascii")
            if not looks_like_random_key(plain):
                raise ValueError("not a random key")
            return plain
        except (binascii.Error, ValueError, UnicodeDecodeError):
            # OpenSSL may answer a wrong key with random bytes (implicit rejection) instead of an error; what
            # DecryptData needs (base64 of an IV and AES blocks, emulated.py) tells a wrong key from a right one
            raise KeyProblem(f"第 {version} 版私钥解不开这条记录的 encrypt_random_key：私钥和公钥不配对？") from None
