"""The chat-archive bridge on Tencent's own SDK (issue 14): `lianhu archive bridge|check|quarantine`.

bridge.py      the reader: GetChatData from the saved seq, RSA key per publickey_ver, DecryptData, delivery
               through bot/archive.py's one inbound path (cursor committed with what each record produced)
supervisor.py  the SDK runs in a child process (worker.py) spoken to in JSON lines; restarted when it dies
worker.py      the child: the real SDK (pywecomarchive) or the emulator's imitation behind one interface
keys.py        the enterprise's RSA private keys by version (key rotation)
codes.py       SDK error codes → meaning and what the operator should do (Chinese)
media.py       placeholders ("[图片]", "[语音 12秒]") and the optional download with a size cap
emulated.py    the record format DecryptData reads (undocumented: read from the SDK, checked against it)
"""
