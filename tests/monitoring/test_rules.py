"""The alerting rules the chart ships: `promtool check rules` accepts them, and
`promtool test rules` shows each alert firing when it should and staying quiet when it
should (tests/monitoring/alerts_test.yaml, a case of each kind for every alert)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from .tools import RULES, binary

TESTS = Path(__file__).with_name("alerts_test.yaml")
_LABEL = re.compile(r"\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def rules() -> dict[str, dict]:
    return {rule["alert"]: rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]}


def test_promtool_check_rules():
    result = subprocess.run([binary("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_every_alert_has_a_runbook_and_a_severity():
    for name, rule in rules().items():
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), name
        text = " ".join(rule["annotations"].values())
        assert "$value" not in text, f"{name}: annotations state thresholds, not values (the tests match them exactly)"


def test_every_alert_is_tested_firing_and_quiet():
    cases = [case for test in yaml.safe_load(TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    fires = {case["alertname"] for case in cases if case["exp_alerts"]}
    quiet = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert set(rules()) - fires == set(), "alerts never shown firing"
    assert set(rules()) - quiet == set(), "alerts never shown staying quiet"
    assert fires | quiet <= set(rules()), "tests name alerts that do not exist"


def _expand(text: str, labels: dict) -> str:
    return _LABEL.sub(lambda match: str(labels.get(match.group(1), "")), text)


def test_promtool_test_rules(tmp_path):
    """Each expected alert gets the rule's annotations with its labels filled in (promtool
    compares annotations exactly), then promtool runs the cases."""
    by_name = rules()
    tests = yaml.safe_load(TESTS.read_text())
    for test in tests["tests"]:
        for case in test["alert_rule_test"]:
            for alert in case["exp_alerts"]:
                annotations = by_name[case["alertname"]]["annotations"].items()
                alert["exp_annotations"] = {key: _expand(text, alert["exp_labels"]) for key, text in annotations}
    shutil.copy(RULES, tmp_path / RULES.name)
    (tmp_path / "alerts_test.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = subprocess.run(
        [binary("promtool"), "test", "rules", "alerts_test.yaml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "SUCCESS" in result.stdout
