"""`lianhu kf link`: kf/add_contact_way on the emulator, the link kept and shown again, a QR-code PNG written."""

from __future__ import annotations

import asyncio

from bot import cli


def _config(tmp_path, pair, open_kfid: str) -> str:
    s = pair.settings
    path = tmp_path / "kf.toml"
    path.write_text(
        f'[database]\nurl = "{s.database.url}"\n'
        f'[wecom]\ncorp_id = "{s.wecom.corp_id}"\nsecret = "{s.wecom.secret}"\napi_base = "{s.wecom.api_base}"\n'
        f'[kf]\nopen_kfid = "{open_kfid}"\nscene = "hh01"\n',
        encoding="utf-8",
    )
    return str(path)


async def test_kf_link_creates_once_shows_after_and_writes_a_qr_png(make_pair, tmp_path, capsys):
    pair = await make_pair()
    cfg = _config(tmp_path, pair, pair.emulator.settings.kf_open_kfid)
    png = tmp_path / "out" / "kf.png"

    def run(*extra: str) -> int:
        return cli.main(["kf", "link", "--config", cfg, "--out", str(png), *extra])

    assert await asyncio.to_thread(run) == 0  # the CLI runs its own event loop
    out = capsys.readouterr().out
    assert "（新建）" in out and "https://work.weixin.qq.com/kfid/kfc" in out and "enc_scene=hh01" in out
    assert str(png.resolve()) in out
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 200
    assert pair.emulator.stats["kf_add_contact_way"] == 1

    png.unlink()
    assert await asyncio.to_thread(run) == 0
    assert "（已有）" in capsys.readouterr().out
    assert pair.emulator.stats["kf_add_contact_way"] == 1  # shown from the database, not asked again
    assert png.exists()


async def test_kf_link_with_an_unknown_account_is_a_clear_error(make_pair, tmp_path, capsys):
    pair = await make_pair()
    cfg = _config(tmp_path, pair, "wkNoSuchAccount")
    code = await asyncio.to_thread(cli.main, ["kf", "link", "--config", cfg, "--out", str(tmp_path / "x.png")])
    assert code == 1
    assert "企业微信拒绝了" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_kf_link_without_an_account_says_where_to_find_it(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text('[kf]\nopen_kfid = ""\n', encoding="utf-8")
    assert cli.main(["kf", "link", "--config", str(path)]) == 2
    assert "open_kfid" in capsys.readouterr().err
