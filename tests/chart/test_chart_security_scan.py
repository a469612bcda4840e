"""checkov over every rendered variant (once per session), the Dockerfiles and the
workflows: no failing check, and each skipped check is listed with its reason in the
chart README (the table under "Security scan skips" is the skip list used here)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from chart_helpers import CHART, REPO, missing_tool, render_text

CHECKOV_REQUIREMENTS = Path(__file__).with_name("checkov-requirements.txt")


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


def readme_skips() -> dict[str, str]:
    readme = (CHART / "README.md").read_text()
    section = readme.split("## Security scan skips", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `(CKV[0-9A-Z_]+)` \| ([^|]+?) \|", section, flags=re.MULTILINE))


@pytest.fixture(scope="session")
def checkov_report(tmp_path_factory, variants) -> list[dict]:
    manifests = tmp_path_factory.mktemp("rendered")
    for index, path in enumerate([None, *sorted((CHART / "ci").glob("*-values.yaml"))]):
        text = render_text() if path is None else render_text("--values", str(path))
        (manifests / f"{index}-{path.stem if path else 'defaults'}.yaml").write_text(text)
    skips = ",".join(readme_skips())
    # --skip-download: offline, no call to the vendor's API for guideline links.
    args = [
        str(checkov_binary()),
        "--quiet",
        "--compact",
        "--skip-download",
        "--output",
        "json",
        "--skip-check",
        skips,
        "--framework",
        "kubernetes",
        "dockerfile",
        "github_actions",
        "--directory",
        str(manifests),
        "--directory",
        str(REPO / ".github" / "workflows"),
    ]
    for service in ("frontend", "reader", "writer"):
        args += ["--directory", str(REPO / "services" / service)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert result.stdout.strip(), result.stderr
    # One JSON document per scanned source; each is a report or a list of reports.
    decoder, text, sections = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        report, end = decoder.raw_decode(text)
        sections += report if isinstance(report, list) else [report]
        text = text[end:].strip()
    return sections


def test_readme_gives_a_reason_for_each_skip():
    skips = readme_skips()
    assert skips, "the README's skip table is empty or missing"
    assert all(len(reason.split()) >= 4 for reason in skips.values()), skips


def test_checkov_finds_no_failing_check(checkov_report):
    failed = [
        f"{check['check_id']} {check['check_name']} in {check.get('resource')} ({Path(check['file_path']).name})"
        for section in checkov_report
        for check in section.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, "\n".join(failed)


def test_checkov_ran_the_three_frameworks(checkov_report):
    kinds = {section.get("check_type") for section in checkov_report}
    assert {"kubernetes", "dockerfile", "github_actions"} <= kinds
    passed = sum(section.get("summary", {}).get("passed", 0) for section in checkov_report)
    assert passed > 100
