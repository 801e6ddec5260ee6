"""What a dry run of the weekly jobs loads: nothing it never uses (start-up is part of its time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.test_cli import clean_env
from tests.ops.test_jobs_cli import NOW, seeded

# Runs ``aftercare ARGS`` in this process, then prints which of the modules a SQLite dry run never needs it loaded.
_CHILD = """
import runpy, sys
args, unwanted = sys.argv[1:-1], sys.argv[-1].split(",")
sys.argv = ["aftercare", *args]
try:
    runpy.run_module("bot", run_name="__main__")
except SystemExit as exit:
    assert not exit.code, exit.code
print("LOADED:" + ",".join(name for name in unwanted if name in sys.modules))
"""
UNWANTED = ("sqlalchemy.dialects.postgresql", "slack_sdk.oauth", "matplotlib")


@pytest.mark.parametrize("job", ["digest", "nudges"])
def test_a_sqlite_dry_run_loads_neither_postgresql_nor_the_oauth_store(tmp_path: Path, job: str) -> None:
    url = seeded(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, "jobs", "run", job, "--dry-run", "--now", NOW, ",".join(UNWANTED)],
        cwd=tmp_path, env=clean_env(DATABASE_URL=url), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "would be sent" in result.stdout  # the job did run
    assert result.stdout.rstrip().splitlines()[-1] == "LOADED:"


def test_the_check_sees_a_module_loaded(tmp_path: Path) -> None:
    """The same child reports a module the run does load (so an empty list above means something)."""
    url = seeded(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, "jobs", "run", "digest", "--dry-run", "--now", NOW, "sqlalchemy.dialects.sqlite"],
        cwd=tmp_path, env=clean_env(DATABASE_URL=url), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.stdout.rstrip().splitlines()[-1] == "LOADED:sqlalchemy.dialects.sqlite"
