"""Chat-archive bridge cost per record, without a database: what the bridge itself adds before delivery.

  - RSA PKCS#1 v1.5 of the random key (2048-bit key, in the bridge process)
  - one DecryptData round trip to the SDK child over the JSON-lines pipe (Python DecryptData, emulated.py)
  - the same with Tencent's real DecryptData (it opens the same record)
  - restarting a dead child (spawn + import + Init), the price of each death

Run: .venv/bin/python bench/bench_archive_bridge.py [--n 500]
Prints figures; it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import time

from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bot.archive_bridge import emulated
from bot.archive_bridge.keys import PrivateKeys
from bot.archive_bridge.supervisor import SdkWorker, WorkerDied

MSG = {"msgid": "m", "action": "send", "from": "wm1", "roomid": "wr1", "msgtime": 1, "msgtype": "text",
       "text": {"content": "微心愿：想要一个老年手机" * 3}}  # fmt: skip


def rate(label: str, n: int, seconds: float) -> None:
    print(f"{label:<44} {n / seconds:>9.0f} /s   {seconds / n * 1e3:7.3f} ms each")


async def main(n: int) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = PrivateKeys({1: private})
    random_key, sealed_msg = emulated.seal(MSG)
    sealed_key = base64.b64encode(private.public_key().encrypt(random_key.encode(), padding.PKCS1v15())).decode()

    t = time.perf_counter()
    for _ in range(n):
        keys.decrypt_random_key(1, sealed_key)
    rate("RSA decrypt of encrypt_random_key", n, time.perf_counter() - t)

    # the emulator-mode child decrypts locally; no HTTP is needed for DecryptData
    emu = SdkWorker({"sdk": "emulator", "emulator_url": "http://127.0.0.1:9", "corp_id": "c", "secret": "s"})
    await emu.call("decrypt", key=random_key, msg=sealed_msg)  # start the child
    t = time.perf_counter()
    for _ in range(n):
        await emu.call("decrypt", key=random_key, msg=sealed_msg)
    rate("DecryptData round trip (emulator child)", n, time.perf_counter() - t)

    t = time.perf_counter()
    deaths = max(3, n // 100)
    for _ in range(deaths):
        try:
            await emu.call("decrypt", key=random_key, msg="AAAA")  # aborts like the real SDK
        except WorkerDied:
            pass
        await emu.call("decrypt", key=random_key, msg=sealed_msg)  # a fresh child
    rate("death + restart + one call (emulator child)", deaths, time.perf_counter() - t)
    await emu.close()

    if importlib.util.find_spec("pywecomarchive") is None:
        print("pywecomarchive not installed: real-SDK figures skipped (pip install -e '.[archive]')")
        return
    real = SdkWorker({"sdk": "pywecomarchive", "corp_id": "ww0123456789abcdef", "secret": "x" * 43, "timeout": 3})
    t = time.perf_counter()
    opened = await real.call("decrypt", key=random_key, msg=sealed_msg)
    assert opened["msg"] == MSG, "the real SDK must open what emulated.seal makes"
    rate("first call: spawn + load .so + Init (real)", 1, time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(n):
        await real.call("decrypt", key=random_key, msg=sealed_msg)
    rate("DecryptData round trip (real .so)", n, time.perf_counter() - t)
    await real.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=500)
    asyncio.run(main(p.parse_args().n))
