"""The chaos run, short: four people for 35 s while the replica, the reader, the
writer, a frontend worker and the frontend are killed with SIGKILL and restarted, and
the primary is restarted (`make chaos` runs it longer, with more people). Its own
stack: it kills things."""

from __future__ import annotations

from devlocal import chaos


def test_nothing_lost_duplicated_or_misreported_while_parts_are_killed(tmp_path):
    result = chaos.run(people=4, seconds=35, out=tmp_path)
    print(chaos.report(result))
    figures = result["figures"]
    assert result["violations"] == [], chaos.report(result)
    assert figures["lost"] == figures["duplicated"] == figures["misreported"] == 0
    assert figures["read_your_writes_violations"] == 0
    assert figures["answers_5xx_outside_faults"] == 0
    assert len(figures["faults"]) == 6
    assert figures["max_recovery_seconds"] < chaos.RECOVERY_BOUND
    assert figures["changes_done"] > 100  # people did get work done in between
    assert (tmp_path / "chaos.png").stat().st_size > 0
