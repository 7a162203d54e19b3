"""Why a callback was refused. Each maps to one HTTP status; nothing is written for any of them."""

from __future__ import annotations


class CallbackRejected(Exception):
    status = 400


class MalformedCallback(CallbackRejected):
    status = 400


class BadSignature(CallbackRejected):
    status = 403


class BadReceiveId(CallbackRejected):
    status = 403


class StaleTimestamp(CallbackRejected):
    status = 403


class TooLarge(CallbackRejected):
    status = 413


class WeComApiError(Exception):
    """A WeCom API answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str = "", path: str = "") -> None:
        super().__init__(f"{path}: {errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.path = path

    @property
    def retryable(self) -> bool:
        return self.errcode in (-1, 45009, 45033)

    @property
    def token_expired(self) -> bool:
        return self.errcode in (40014, 42001)
