"""Values that must fail do, with a readable message; existingSecret and the upgrade
lookup keep secrets stable; README.md lists every value of values.yaml."""

from __future__ import annotations

import base64
import re
import shutil

import pytest
import yaml
from chart_helpers import CHART, RELEASE, env_of, find, of_kind, pod_spec, render, run_helm, service_container


def render_error(*args: str) -> str:
    result = run_helm("template", RELEASE, str(CHART), *args, check=False)
    assert result.returncode != 0, f"helm template {args} should have failed"
    return result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "frontend.replicaCount=many"], "/frontend/replicaCount': got string, want integer"),
        (["--set", "postgresql.readReplicas.replicaCount=0"], "/postgresql/readReplicas/replicaCount': minimum: got 0"),
        (["--set", "postgresql.enabled=false"], "externalDatabase.primary.host is required when postgresql.enabled"),
        (["--set", "frontend.service.type=Magic"], "/frontend/service/type"),
        (["--set", "externalDatabase.primary.sslmode=sometimes"], "/externalDatabase/primary/sslmode"),
        (["--set", "reader.unknownKey=1"], "additional properties 'unknownKey' not allowed"),
        (["--set", "postgresql.auth.username=Robert'); DROP"], "/postgresql/auth/username"),
        # The writer's own rules for a username (todo_common.credentials).
        (["--set", "migrations.owner=al"], "/migrations/owner"),
        (["--set", "migrations.owner=-alice"], "/migrations/owner"),
        (["--set", "migrations.owner=alice smith"], "/migrations/owner"),
        (["--set", f"migrations.owner={'a' * 41}"], "/migrations/owner"),
        (["--set", "accounts.limits.maxItemsPerList=0"], "/accounts/limits/maxItemsPerList': minimum: got 0"),
        (["--set", "accounts.limits.loginThrottleWindowSeconds=soon"], "/accounts/limits/loginThrottleWindowSeconds"),
        (["--set", "accounts.limits.unknown=1"], "additional properties 'unknown' not allowed"),
        (["--set", "frontend.trustedProxies=-1"], "/frontend/trustedProxies"),
        (["--set", "frontend.publicUrl=todo.example.com"], "/frontend/publicUrl"),
        (["--set", "serviceToken.acceptPreviousKey=maybe"], "/serviceToken/acceptPreviousKey"),
    ],
)
def test_bad_values_fail_with_a_readable_message(args, message):
    assert message in render_error(*args)


def test_install_rejects_bad_values_before_touching_a_cluster():
    # `helm install` validates values.schema.json first (a dry run needs no cluster).
    result = run_helm(
        "install", RELEASE, str(CHART), "--dry-run=client", "--set", "writer.gunicorn.workers=-1", check=False
    )
    assert result.returncode != 0 and "/writer/gunicorn/workers" in result.stderr


def test_existing_secrets_are_used_and_none_generated():
    docs = render("--set", "postgresql.auth.existingSecret=my-db", "--set", "frontend.existingSecret=my-session")
    assert not of_kind(docs, "Secret")

    def mounted(service: str) -> list[dict]:
        volumes = pod_spec(find(docs, "Deployment", f"{RELEASE}-{service}"))["volumes"]
        return [
            source["secret"] for source in next(v for v in volumes if v["name"] == "secrets")["projected"]["sources"]
        ]

    token_key = {"key": "service-token-key", "path": "service-token-key"}
    assert mounted("writer") == [
        {"name": "my-db", "items": [{"key": "password", "path": "database-password"}]},
        {"name": "my-session", "items": [token_key]},
    ]
    assert env_of(service_container(docs, "writer"))["DATABASE_PASSWORD_FILE"]["value"].endswith("/database-password")
    assert mounted("frontend") == [
        {"name": "my-session", "items": [{"key": "secret-key", "path": "secret-key"}, token_key]}
    ]
    assert {"name": "my-session", "items": [token_key]} in mounted("reader")
    volumes = find(docs, "StatefulSet", f"{RELEASE}-postgresql-primary")["spec"]["template"]["spec"]["volumes"]
    assert next(v for v in volumes if v["name"] == "secrets")["secret"]["secretName"] == "my-db"


def test_generated_secrets_are_random_and_kept_on_uninstall():
    first, second = render("--set", "tests.timeoutSeconds=61"), render("--set", "tests.timeoutSeconds=62")
    for name in (f"{RELEASE}-postgresql", f"{RELEASE}-frontend"):
        a, b = find(first, "Secret", name), find(second, "Secret", name)
        assert a["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        assert a["data"] != b["data"], "without a Secret in the cluster each render generates new values"
        assert all(len(value) >= 40 for value in a["data"].values())


def test_upgrade_reuses_the_secret_found_in_the_cluster(tmp_path):
    # The lookup stand-in: the helper that picks a value is rendered with a Secret as
    # `lookup` returns it on upgrade, through a tiny template rendered by the real helm
    # (in a copy of the chart, so the working tree is never touched).
    chart = tmp_path / "todo"
    shutil.copytree(CHART, chart)
    probe = chart / "templates" / "zz-lookup-probe.yaml"
    probe.write_text(
        '{{- $found := dict "data" (dict "password" "a2VwdA==") }}\n'
        'kept: {{ include "todo.generatedValue" (dict "existing" $found "key" "password") }}\n'
        'fresh: {{ include "todo.generatedValue" (dict "existing" $found "key" "other") }}\n'
        'none: {{ include "todo.generatedValue" (dict "existing" nil "key" "password") }}\n'
    )
    text = run_helm("template", RELEASE, str(chart), "--show-only", "templates/zz-lookup-probe.yaml").stdout
    values = yaml.safe_load(text)
    assert values["kept"] == "a2VwdA=="
    assert values["fresh"] != "a2VwdA==" and len(values["fresh"]) >= 40
    assert len(values["none"]) >= 40


def frontend_secret_on_upgrade(tmp_path, found: dict[str, str]) -> dict:
    """The frontend Secret the chart renders when `lookup` finds one with data `found` (as
    on an upgrade): rendered by the real helm from a copy of the chart whose lookup is
    replaced by that Secret; the working tree is never touched."""
    chart = tmp_path / "todo"
    shutil.copytree(CHART, chart)
    template = chart / "templates" / "secrets.yaml"
    text = template.read_text()
    lookup = '{{- $existing := lookup "v1" "Secret" .Release.Namespace $name }}'
    at = text.index(lookup, text.index('include "todo.frontendSecretName"'))
    pairs = " ".join(f'"{key}" "{value}"' for key, value in found.items())
    template.write_text(text[:at] + f'{{{{- $existing := dict "data" (dict {pairs}) }}}}' + text[at + len(lookup) :])
    rendered = run_helm("template", RELEASE, str(chart), "--show-only", "templates/secrets.yaml").stdout
    return next(doc for doc in yaml.safe_load_all(rendered) if doc and doc["metadata"]["name"] == f"{RELEASE}-frontend")


def test_upgrade_keeps_the_service_token_key(tmp_path):
    found = {"secret-key": "c2Vzc2lvbg==", "service-token-key": "a2VwdA=="}
    assert frontend_secret_on_upgrade(tmp_path, found)["data"] == found


def test_upgrade_from_before_accounts_adds_a_service_token_key_and_keeps_the_session_key(tmp_path):
    data = frontend_secret_on_upgrade(tmp_path, {"secret-key": "c2Vzc2lvbg=="})["data"]
    assert data["secret-key"] == "c2Vzc2lvbg=="
    assert len(base64.b64decode(data["service-token-key"])) >= 32  # todo_common.service_token.MIN_KEY_LENGTH


def test_an_existing_secret_without_the_service_token_key_is_refused(tmp_path):
    # todo.validateSecretKeys is given what `lookup` finds of frontend.existingSecret.
    chart = tmp_path / "todo"
    shutil.copytree(CHART, chart)
    probe = chart / "templates" / "zz-existing-secret-probe.yaml"
    found = '(dict "metadata" (dict "name" "my-keys") "data" (dict %s))'
    call = (
        f'{{{{- include "todo.validateSecretKeys" (dict "secret" {found}'
        ' "value" "frontend.existingSecret" "keys" (list "secret-key" "service-token-key")) }}\n'
    )
    probe.write_text(call % '"secret-key" "eA=="')
    result = run_helm(
        "template", RELEASE, str(chart), "--show-only", "templates/zz-existing-secret-probe.yaml", check=False
    )
    assert result.returncode != 0
    assert 'frontend.existingSecret: the Secret my-keys has no key "service-token-key"' in result.stderr
    probe.write_text(call % '"secret-key" "eA==" "service-token-key" "eQ=="' + "ok: true\n")
    run_helm("template", RELEASE, str(chart), "--show-only", "templates/zz-existing-secret-probe.yaml")
    # Nothing found (helm template, Argo CD, Flux): nothing to check.
    probe.write_text(
        '{{- include "todo.validateSecretKeys" (dict "secret" dict "value" "v" "keys" (list "k")) }}\nok: true\n'
    )
    run_helm("template", RELEASE, str(chart), "--show-only", "templates/zz-existing-secret-probe.yaml")


def documented_keys() -> dict[str, str]:
    """Keys in values.yaml that carry a "# --" description, with their YAML default."""
    keys, stack = {}, []
    lines = (CHART / "values.yaml").read_text().splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"^( *)([A-Za-z][A-Za-z0-9]*):(.*)$", line)
        if not match:
            continue
        indent = len(match.group(1)) // 2
        stack[indent:] = [match.group(2)]
        if number and lines[number - 1].strip().startswith("# --"):
            keys[".".join(stack)] = match.group(3).strip()
    return keys


def leaf_paths(node, prefix="") -> list[str]:
    if isinstance(node, dict) and node:
        return [path for key, value in node.items() for path in leaf_paths(value, f"{prefix}{key}.")]
    return [prefix.rstrip(".")]


def test_every_value_is_documented_in_values_yaml():
    keys = documented_keys()
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    undocumented = [p for p in leaf_paths(values) if not any(p == k or p.startswith(k + ".") for k in keys)]
    assert not undocumented, f"add a '# --' comment above: {undocumented}"


def test_readme_lists_every_value():
    readme = (CHART / "README.md").read_text()
    section = readme.split("\n## Values\n", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([A-Za-z0-9.]+)` \|", section, flags=re.MULTILINE))
    keys = set(documented_keys())
    assert not keys - listed, f"missing from README.md: {sorted(keys - listed)}"
    assert not listed - keys, f"README.md lists values that do not exist: {sorted(listed - keys)}"
