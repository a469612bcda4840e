"""The local stack's own safety: the superuser password initdb reads is never readable
by anyone else, not even for a moment."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from devlocal import postgres


def test_the_initdb_password_file_is_never_readable_by_others(tmp_path, monkeypatch):
    tmp_path.chmod(0o755)
    seen = {}

    def fake_run(command, **kwargs):
        pwfile = Path(next(arg for arg in command if arg.startswith("--pwfile=")).split("=", 1)[1])
        seen["mode"] = stat.S_IMODE(pwfile.stat().st_mode)
        seen["text"] = pwfile.read_text()
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(postgres.subprocess, "run", fake_run)
    cluster = postgres.Cluster(tmp_path, 1, 2, {postgres.SUPERUSER: "s3cret"})
    cluster._prepare_dirs()
    cluster._init_primary()
    assert seen["text"] == "s3cret"
    assert seen["mode"] & 0o077 == 0, oct(seen["mode"])
    assert not (tmp_path / "sockets" / ".initdb-pw").exists()
