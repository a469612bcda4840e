"""checkov over every rendered variant (once per session), the Dockerfile and the
workflows, run with the repository's .checkov.yaml: no failing check, and every check
that file skips says why."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from chart_helpers import CHART, REPO, missing_tool, render_text

CHECKOV_REQUIREMENTS = Path(__file__).with_name("checkov-requirements.txt")
CHECKOV_CONFIG = REPO / ".checkov.yaml"


def checkov_binary() -> Path:
    """checkov in its own virtualenv: it pins packaging<24, which pytest 9 cannot share."""
    pin = CHECKOV_REQUIREMENTS.read_text().split()[-1].replace("==", "-")
    venv = Path(sys.prefix) / "tools" / pin
    binary = venv / "bin" / "checkov"
    if not binary.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
            subprocess.run(
                [str(venv / "bin" / "pip"), "install", "--quiet", "-r", str(CHECKOV_REQUIREMENTS)],
                check=True,
                capture_output=True,
                text=True,
                timeout=600,
            )
        except subprocess.CalledProcessError as exc:
            missing_tool("checkov", f"installing it failed: {exc.stderr}")
    return binary


def skipped_checks() -> list[str]:
    return yaml.safe_load(CHECKOV_CONFIG.read_text())["skip-check"]


@pytest.fixture(scope="session")
def checkov_report(tmp_path_factory, variants) -> list[dict]:
    manifests = tmp_path_factory.mktemp("rendered")
    for index, path in enumerate([None, *sorted((CHART / "ci").glob("*-values.yaml"))]):
        text = render_text() if path is None else render_text("--values", str(path))
        (manifests / f"{index}-{path.stem if path else 'defaults'}.yaml").write_text(text)
    # --skip-download: offline, no call to the vendor's API for guideline links.
    args = [
        str(checkov_binary()),
        "--config-file",
        str(CHECKOV_CONFIG),
        "--quiet",
        "--compact",
        "--skip-download",
        "--output",
        "json",
        "--directory",
        str(manifests),
        "--directory",
        str(REPO / ".github" / "workflows"),
        "--directory",
        str(REPO / "services"),
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert result.stdout.strip(), result.stderr
    # One JSON document per scanned source; each is a report or a list of reports.
    decoder, text, sections = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        report, end = decoder.raw_decode(text)
        sections += report if isinstance(report, list) else [report]
        text = text[end:].strip()
    return sections


def test_each_skipped_check_has_a_reason():
    skips = skipped_checks()
    assert skips and all(re.fullmatch(r"CKV\d*_[A-Z0-9]+_\d+", check) for check in skips), skips
    lines = CHECKOV_CONFIG.read_text().splitlines()
    for check in skips:
        number = next(n for n, line in enumerate(lines) if line.strip() == f"- {check}")
        reason = []
        while number > 0 and lines[number - 1].strip().startswith("#"):
            number -= 1
            reason.insert(0, lines[number].strip("# "))
        assert len(" ".join(reason).split()) >= 6, f"{check} is skipped without a reason in .checkov.yaml"


def checks(report: list[dict], outcome: str) -> list[dict]:
    """Every check of one outcome across the report's sections (--compact keeps only failures)."""
    return [check for section in report for check in section.get("results", {}).get(f"{outcome}_checks", [])]


def test_checkov_finds_no_failing_check(checkov_report):
    failed = [
        f"{check['check_id']} {check['check_name']} in {check.get('resource')} ({Path(check['file_path']).name})"
        for check in checks(checkov_report, "failed")
    ]
    assert not failed, "\n".join(failed)


def test_checkov_ran_the_three_frameworks(checkov_report):
    kinds = {section.get("check_type") for section in checkov_report}
    assert {"kubernetes", "dockerfile", "github_actions"} <= kinds
    assert sum(section.get("summary", {}).get("passed", 0) for section in checkov_report) > 100
