"""The short month in the village (devtools/simulate.py): every channel on, a job run by hand, a restart and a
kill -9 of a real `lianhu serve`, then every invariant checked on the emulator's timeline and the database. The full
month (≥ 2,000 messages) is bench/bench_simulate.py."""

from __future__ import annotations

from devtools.simulate import simulate


async def test_a_short_month_in_the_village_holds_every_invariant(migrated_url, tmp_path):
    lines: list[str] = []
    report = await simulate(240, seed=11, database_url=migrated_url, workdir=tmp_path, say=lines.append)
    f = report.figures
    assert report.failures == [], "\n".join(lines)
    # the run really exercised what it checks
    assert f["archive_copies_ignored"] > 0 and f["same_words_by_second_door"] > 0
    assert f["visits"] > 20 and f["matters"] > 10 and f["deliveries"] > 20
    assert f["month"]["ratings"] > 0  # matters carried through to the resident's rating
    assert f["utterances_handled_twice"] == 0 and f["delivered_twice_or_unasked"] == 0
