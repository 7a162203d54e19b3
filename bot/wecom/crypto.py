"""WeCom callback crypto (WXBizMsgCrypt), for both the XML app callback and the 智能机器人 JSON callback.

The AES-CBC work is wechatpy's (`wechatpy.enterprise.crypto.PrpCrypto`); this module adds what wechatpy leaves
out: a constant-time signature check, strict error mapping for hostile input, the JSON envelope, and a
pluggable random prefix so tests can pin it against Tencent's official vectors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
from collections.abc import Callable

from wechatpy.enterprise.crypto import PrpCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException

from bot.wecom.errors import BadReceiveId, BadSignature, MalformedCallback

_ALPHABET = string.ascii_letters + string.digits


def _random_prefix() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(16))


def sign(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """msg_signature = sha1 of the four strings sorted and joined (WeCom's documented algorithm)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


class CallbackCrypto:
    """One callback endpoint's crypto: token + EncodingAESKey + the receive id (corp id for apps, "" for 智能机器人)."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        receive_id: str,
        *,
        random_prefix: Callable[[], str] = _random_prefix,
    ) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as exc:
            raise ValueError("encoding_aes_key is not valid base64") from exc
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise ValueError("encoding_aes_key must be 43 characters (a 32-byte AES key)")
        self.token = token
        self.key = key
        self.receive_id = receive_id
        self._prp = PrpCrypto(key)
        self._prp.get_random_string = random_prefix  # type: ignore[method-assign]

    # --- inbound -------------------------------------------------------------------------------------------
    def check_signature(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = sign(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode(), (msg_signature or "").encode()):
            raise BadSignature("签名校验失败")

    def decrypt(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """Verify, then decrypt one `Encrypt`/`encrypt`/`echostr` value to its plaintext."""
        if not encrypt:
            raise MalformedCallback("缺少密文")
        self.check_signature(msg_signature, timestamp, nonce, encrypt)
        return self._decrypt(encrypt)

    def _decrypt(self, encrypt: str) -> str:
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedCallback("密文不是合法的 base64") from exc
        if not raw or len(raw) % 32:
            raise MalformedCallback("密文长度不是 32 的整数倍")
        try:
            return self._prp.decrypt(encrypt, self.receive_id)
        except InvalidCorpIdException as exc:
            raise BadReceiveId("receive id 不匹配") from exc
        except Exception as exc:  # padding, length field, UTF-8: all mean a broken body
            raise MalformedCallback("密文无法解开") from exc

    # --- outbound ------------------------------------------------------------------------------------------
    def encrypt(self, plaintext: str, nonce: str, timestamp: str) -> tuple[str, str]:
        """Return (encrypt, msg_signature) for a plaintext body."""
        encrypt = self._prp.encrypt(plaintext, self.receive_id).decode()
        return encrypt, sign(self.token, timestamp, nonce, encrypt)

    def encrypt_xml(self, plaintext: str, nonce: str, timestamp: str) -> str:
        encrypt, signature = self.encrypt(plaintext, nonce, timestamp)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )

    def encrypt_json(self, plaintext: str, nonce: str, timestamp: str) -> dict[str, str]:
        encrypt, signature = self.encrypt(plaintext, nonce, timestamp)
        return {"encrypt": encrypt, "msgsignature": signature, "timestamp": timestamp, "nonce": nonce}
