"""The SDK's error codes (developer.work.weixin.qq.com/document/path/91552, as the wrapper lists them) with what
each means for an operator. Shown by `lianhu archive check`, logged by the bridge, and the table in
docs/channels.md."""

from __future__ import annotations

# code -> (meaning, what to do)
SDK_CODES: dict[int, tuple[str, str]] = {
    0: ("成功", "无需处理"),
    10000: ("请求参数错误", "检查 corp_id、seq、batch_limit（1–1000）是否填对"),
    10001: ("网络请求错误", "检查本机能否访问企业微信、代理设置；桥接服务会自动退避重试"),
    10002: ("数据解析失败", "多半是这条记录本身有问题：它会被隔离（lianhu archive quarantine），读取继续"),
    10003: ("系统调用失败", "看磁盘、内存、文件句柄；桥接服务会重试"),
    10004: ("密钥错误导致加密失败（已废弃）", "升级 SDK"),
    10005: (
        "fileid 错误（解密时：记录结构不对）",
        "媒体文件标识不对或已过期，该媒体只保留占位；解密时出现则该记录被隔离",
    ),
    10006: ("解密失败", "记录损坏，自动隔离；若大量出现，检查 private_keys 里该版本的私钥"),
    10007: ("找不到该版本的私钥（已废弃）", "在 private_keys 里补上该版本的私钥"),
    10008: ("解密消息失败（DecryptMsg 错误）", "私钥版本不对或记录损坏；单条损坏的记录会被隔离"),
    10009: ("IP 不合法", "把本机出口 IP 加到管理后台会话内容存档的“可信 IP”"),
    10010: ("请求的数据过期", "存档只保留约 5 天，停机太久的部分已经取不到了"),
    10011: ("SSL 证书错误", "检查系统时间和代理是否篡改了证书"),
    # WeCom's general codes that GetChatData passes through (archive secret, IP list)
    40001: ("不合法的 Secret", "secret 要填“会话内容存档”的 Secret，不是自建应用的"),
    41001: ("缺少 access_token", "一般也是 Secret 或可信 IP 没配好"),
    301042: ("IP 不在白名单", "把本机出口 IP 加到管理后台的可信 IP"),
}

# Worth retrying after a pause: the network, the system, WeCom busy. Anything else needs a person, but the bridge
# retries those too (slower, at the cap) so that it resumes by itself once the configuration is fixed.
TRANSIENT = frozenset({10001, 10003, 10011, -1})

# What DecryptData answers for a record that does not open although its random key came out of RSA well-formed
# (keys.py checks that): the record is damaged, it is quarantined and reading goes on. 10005 and 10006 are what the
# SDK's own code returns for a damaged inner structure (emulated.py).
RECORD_BROKEN = frozenset({10002, 10005, 10006, 10008})


def meaning(code: int | str) -> str:
    if isinstance(code, int) and code in SDK_CODES:
        return SDK_CODES[code][0]
    return "未知错误"


def advice(code: int | str) -> str:
    if isinstance(code, int) and code in SDK_CODES:
        return SDK_CODES[code][1]
    return "查看日志；若持续出现，请联系技术支持"


def describe(code: int | str) -> str:
    return f"错误码 {code}：{meaning(code)}（{advice(code)}）"
