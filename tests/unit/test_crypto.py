"""The callback crypto against Tencent's official sample vectors (sbzhu/weworkapi_python callback/Sample.py)."""

import base64
import json

import pytest

from bot.wecom.crypto import CallbackCrypto, sign
from bot.wecom.errors import BadReceiveId, BadSignature, MalformedCallback

TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP = "ww1436e0e65a779aee"

VERIFY = dict(
    msg_signature="012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
    timestamp="1476416373",
    nonce="47744683",
    encrypt="fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
)
MESSAGE = dict(
    msg_signature="0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
    timestamp="1476422779",
    nonce="1597212914",
    encrypt=(
        "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNsh"
        "w2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010ws"
        "HF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVD"
        "GxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
    ),
)


@pytest.fixture
def crypto():
    return CallbackCrypto(TOKEN, KEY, CORP)


def test_official_url_verification_vector(crypto):
    assert crypto.decrypt(**VERIFY) == "1288432023552776189"


def test_official_message_vector(crypto):
    plain = crypto.decrypt(**MESSAGE)
    assert "<FromUserName>ChenJiaShun</FromUserName>" in plain
    assert "<Content>你好</Content>" in plain
    assert "<MsgId>1456453720</MsgId>" in plain


def test_signature_is_sorted_sha1():
    assert sign(TOKEN, MESSAGE["timestamp"], MESSAGE["nonce"], MESSAGE["encrypt"]) == MESSAGE["msg_signature"]


def test_wrong_signature_rejected(crypto):
    with pytest.raises(BadSignature):
        crypto.decrypt(**{**MESSAGE, "msg_signature": "0" * 40})


def test_wrong_receive_id_rejected():
    with pytest.raises(BadReceiveId):
        CallbackCrypto(TOKEN, KEY, "wwsomeoneelse").decrypt(**MESSAGE)


@pytest.mark.parametrize("encrypt", ["not base64 !!", base64.b64encode(b"x" * 31).decode(), "", "QUJD"])
def test_broken_ciphertext_is_malformed_not_a_crash(crypto, encrypt):
    sig = sign(TOKEN, "1", "2", encrypt)
    with pytest.raises((MalformedCallback, BadSignature)):
        crypto.decrypt(sig, "1", "2", encrypt)


def test_round_trip_with_pinned_prefix_is_deterministic():
    c = CallbackCrypto(TOKEN, KEY, "", random_prefix=lambda: "a" * 16)
    env1 = c.encrypt_json(json.dumps({"k": "值"}), "n1", "100")
    env2 = c.encrypt_json(json.dumps({"k": "值"}), "n1", "100")
    assert env1 == env2
    assert json.loads(c.decrypt(env1["msgsignature"], "100", "n1", env1["encrypt"])) == {"k": "值"}


def test_bad_key_length_refused():
    with pytest.raises(ValueError):
        CallbackCrypto(TOKEN, KEY[:-1], CORP)
