"""What the rendered manifests promise for running the chart past its first day: the
database pods do not change with the chart or app version or the replica count, every
name fits Kubernetes' limits with a long release name, the chart works as a dependency
of an umbrella chart, hooks are safe under Argo CD, an external database can be checked
against a mounted CA, config changes roll the pods that read them, the primary has a
disruption budget and stays apart from its replicas, backups render what they promise."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from chart_helpers import (
    CHART,
    NAMESPACE,
    RELEASE,
    SERVICES,
    containers,
    env_of,
    find,
    of_kind,
    pod_spec,
    render,
    render_values_file,
    run_helm,
    workloads,
)
from test_chart_values import render_error

PRIMARY = f"{RELEASE}-postgresql-primary"
REPLICAS = f"{RELEASE}-postgresql-read"
DATABASE_STATEFULSETS = (PRIMARY, REPLICAS)


def chart_copy(tmp_path: Path, name: str = "todo") -> Path:
    copy = tmp_path / name
    shutil.copytree(CHART, copy)
    return copy


def render_chart(chart: Path, *args: str, release: str = RELEASE) -> list[dict]:
    text = run_helm("template", release, str(chart), "--namespace", NAMESPACE, *args).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


def set_chart_version(chart: Path, version: str) -> None:
    text = (chart / "Chart.yaml").read_text()
    text = text.replace("version: 0.1.0", f"version: {version}").replace(
        'appVersion: "0.1.0"', f'appVersion: "{version}"'
    )
    (chart / "Chart.yaml").write_text(text)


# -- database pods change only with their own settings ------------------------------------


def test_database_pod_templates_carry_no_release_or_version_labels(default_docs):
    for name in DATABASE_STATEFULSETS:
        statefulset = find(default_docs, "StatefulSet", name)
        labels = statefulset["spec"]["template"]["metadata"]["labels"]
        assert "helm.sh/chart" not in labels and "app.kubernetes.io/version" not in labels, labels
        # ... they stay on the StatefulSet itself.
        assert statefulset["metadata"]["labels"]["helm.sh/chart"].startswith("todo-")


def test_database_pod_templates_are_identical_across_chart_versions_and_replica_counts(tmp_path, default_docs):
    newer = chart_copy(tmp_path)
    set_chart_version(newer, "7.8.9")
    renders = {
        "another chart and app version": render_chart(newer),
        "three replicas": render("--set", "postgresql.readReplicas.replicaCount=3"),
        "another app image": render("--set", "image.tag=2.0.0"),
    }
    for what, docs in renders.items():
        for name in DATABASE_STATEFULSETS:
            before = find(default_docs, "StatefulSet", name)["spec"]["template"]
            assert find(docs, "StatefulSet", name)["spec"]["template"] == before, f"{name} changes with {what}"
    assert find(renders["three replicas"], "StatefulSet", REPLICAS)["spec"]["replicas"] == 3


def test_database_pods_roll_when_a_script_they_run_changes(tmp_path, default_docs):
    changed = chart_copy(tmp_path)
    script = changed / "files" / "replica-check.sh"
    script.write_text(script.read_text() + "\n# changed\n")
    docs = render_chart(changed)
    for name in DATABASE_STATEFULSETS:
        before = find(default_docs, "StatefulSet", name)["spec"]["template"]["metadata"]["annotations"]
        after = find(docs, "StatefulSet", name)["spec"]["template"]["metadata"]["annotations"]
        assert before["checksum/config"] != after["checksum/config"]


def test_service_pods_roll_when_a_secret_the_chart_renders_changes():
    external = ["--set", "postgresql.enabled=false", "--set", "externalDatabase.primary.host=db.example.com"]
    first = render(*external, "--set", "externalDatabase.primary.password=one")
    second = render(*external, "--set", "externalDatabase.primary.password=two")
    for service in ("reader", "writer"):
        annotations = [
            find(docs, "Deployment", f"{RELEASE}-{service}")["spec"]["template"]["metadata"]["annotations"]
            for docs in (first, second)
        ]
        assert annotations[0]["checksum/secrets"] != annotations[1]["checksum/secrets"]


# -- replication settings, slots, readiness --------------------------------------------


def test_replica_probes_check_streaming_not_just_an_answer(default_docs):
    replica = next(
        c for c in pod_spec(find(default_docs, "StatefulSet", REPLICAS))["containers"] if c["name"] == "postgresql"
    )
    assert replica["readinessProbe"]["exec"]["command"] == ["bash", "/opt/todo/replica-check.sh", "ready"]
    assert replica["livenessProbe"]["exec"]["command"] == ["bash", "/opt/todo/replica-check.sh", "live"]
    assert replica["command"] == ["bash", "/opt/todo/replica-start.sh"]
    assert env_of(replica)["MAX_LAG_BYTES"]["value"] == "16777216"


def test_slots_are_bounded_idle_ones_expire_and_removed_ones_are_dropped(default_docs):
    args = next(
        c for c in pod_spec(find(default_docs, "StatefulSet", PRIMARY))["containers"] if c["name"] == "postgresql"
    )["args"]
    assert "idle_replication_slot_timeout=1d" in args and "max_slot_wal_keep_size=2GB" in args
    job = find(default_docs, "Job", f"{RELEASE}-postgresql-slots")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PostSync"
    assert pod_spec(job)["containers"][0]["command"] == ["bash", "/opt/todo/drop-stale-slots.sh"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--set", "postgresql.primary.maxSlotWalKeepSize=8GB"],
            "postgresql.primary.maxSlotWalKeepSize (8GB) must be at most half of postgresql.primary.persistence.size",
        ),
        (["--set", "postgresql.readReplicas.replicaCount=9"], "postgresql.maxWalSenders (10) must be at least"),
        (
            ["--set", "postgresql.maxReplicationSlots=1", "--set", "postgresql.readReplicas.replicaCount=2"],
            "maxReplicationSlots",
        ),
    ],
)
def test_replication_values_that_cannot_work_fail(args, message):
    assert message in render_error(*args)


# -- names ------------------------------------------------------------------------------


def all_names(docs: list[dict]) -> list[str]:
    return [doc["metadata"]["name"] for doc in docs]


@pytest.mark.parametrize(
    "release",
    [
        "a-release-name-of-fifty-three-characters-for-the-todo",  # Helm's longest release name
        "todo-with-a-release-name-over-thirty-three",
    ],
)
def test_every_name_fits_with_a_long_release_name(tmp_path, release):
    assert len(release) <= 53
    for values in ([], ["--values", str(CHART / "ci" / "backup-values.yaml")]):
        docs = render_chart(CHART, *values, release=release)
        names = all_names(docs)
        assert all(len(name) <= 63 for name in names), [name for name in names if len(name) > 63]
        for kind in ("StatefulSet", "CronJob"):
            # A StatefulSet's pods get <name>-<10-character hash> as a label; a CronJob's Jobs a suffix.
            assert all(len(doc["metadata"]["name"]) <= 52 for doc in of_kind(docs, kind)), kind
        for kind in {doc["kind"] for doc in docs}:
            same_kind = [doc["metadata"]["name"] for doc in of_kind(docs, kind)]
            assert len(set(same_kind)) == len(same_kind), f"two {kind}s share a name"
        for doc in docs:
            for label in doc["metadata"].get("labels", {}).values():
                assert len(str(label)) <= 63


def test_long_release_names_that_share_a_beginning_stay_apart():
    one = render_chart(CHART, release="a-release-name-of-fifty-three-characters-for-the-one")
    two = render_chart(CHART, release="a-release-name-of-fifty-three-characters-for-the-two")
    assert not set(all_names(one)) & set(all_names(two))


# -- as a dependency of an umbrella chart ------------------------------------------------


@pytest.fixture(scope="module")
def umbrella(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("umbrella") / "shop"
    (root / "charts").mkdir(parents=True)
    (root / "templates").mkdir()
    shutil.copytree(CHART, root / "charts" / "todo")
    (root / "Chart.yaml").write_text(
        "apiVersion: v2\nname: shop\nversion: 1.0.0\nicon: https://example.com/shop.svg\n"
        "dependencies:\n  - name: todo\n    version: 0.1.0\n    repository: file://charts/todo\n"
        "    condition: todo.enabled\n"
    )
    (root / "values.yaml").write_text(
        "global:\n  imageRegistry: registry.example.com\n"
        "  imagePullSecrets: [mirror-credentials, {name: second-credentials}]\n"
        "  storageClass: an-umbrella-global-this-chart-ignores\n"
        "todo:\n  enabled: true\n  imagePullSecrets: [{name: own-credentials}]\n"
        "  backup: {enabled: true, destination: s3, s3: {url: 's3://b/p', existingSecret: s3}}\n"
    )
    return root


def test_renders_as_a_dependency_with_global_values(umbrella):
    docs = render_chart(umbrella)
    pods = workloads(docs) + [doc for doc in docs if doc["kind"] == "CronJob"]
    assert {doc["kind"] for doc in pods} >= {"Deployment", "StatefulSet", "Job", "Pod", "CronJob"}
    for doc in pods:
        spec = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"] if doc["kind"] == "CronJob" else pod_spec(doc)
        where = f"{doc['kind']} {doc['metadata']['name']}"
        images = [c["image"] for c in spec.get("initContainers", []) + spec["containers"]]
        assert all(image.startswith("registry.example.com/") for image in images), (where, images)
        secrets = [entry["name"] for entry in spec["imagePullSecrets"]]
        assert secrets == ["mirror-credentials", "second-credentials", "own-credentials"], where
    assert run_helm("lint", "--strict", str(umbrella)).returncode == 0


def test_the_umbrella_condition_turns_it_off(umbrella):
    docs = render_chart(umbrella, "--set", "todo.enabled=false")
    assert not docs


def test_global_registry_reaches_the_operator_image():
    docs = render(
        "--set",
        "postgresql.enabled=false",
        "--set",
        "cloudnativepg.enabled=true",
        "--set",
        "global.imageRegistry=mirror.example",
        "--set",
        "global.imagePullSecrets[0]=mirror-credentials",
    )
    spec = find(docs, "Cluster", f"{RELEASE}-db")["spec"]
    assert spec["imageName"].startswith("mirror.example/cloudnative-pg/")
    assert spec["imagePullSecrets"] == [{"name": "mirror-credentials"}]


# -- hooks, GitOps ------------------------------------------------------------------------


def test_migrations_run_after_the_database_under_argo_cd(default_docs):
    job = find(default_docs, "Job", f"{RELEASE}-migrations")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,pre-upgrade"
    # Argo CD reads its own annotations instead of Helm's: a Sync hook after wave 0.
    assert annotations["argocd.argoproj.io/hook"] == "Sync"
    wave = int(annotations["argocd.argoproj.io/sync-wave"])
    for doc in default_docs:
        if doc["kind"] in {"StatefulSet", "Service", "Secret", "ConfigMap"}:
            assert int(doc["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", 0)) < wave, doc


def test_hooks_leave_nothing_behind(default_docs):
    hooks = [doc for doc in default_docs if "helm.sh/hook" in doc["metadata"].get("annotations", {})]
    assert {doc["kind"] for doc in hooks} == {"Job", "Pod"}, "a hook ConfigMap outlives `helm uninstall`"
    for doc in hooks:
        assert "hook-succeeded" in doc["metadata"]["annotations"]["helm.sh/hook-delete-policy"]


def test_notes_tell_gitops_users_about_lookup():
    notes = run_helm("install", RELEASE, str(CHART), "--dry-run=client").stdout
    assert "Argo CD" in notes and "existingSecret" in notes
    quiet = run_helm(
        "install",
        RELEASE,
        str(CHART),
        "--dry-run=client",
        "--set",
        "postgresql.auth.existingSecret=db",
        "--set",
        "frontend.existingSecret=session",
    ).stdout
    assert "lookup" not in quiet


# -- an external database checked against a CA ------------------------------------------


def test_extra_volumes_reach_the_services_and_the_migration_job():
    docs = render_values_file(CHART / "ci" / "external-database-values.yaml")
    mount = {"name": "database-ca", "mountPath": "/etc/todo/database-ca", "readOnly": True}
    targets = [find(docs, "Deployment", f"{RELEASE}-{s}") for s in SERVICES] + [
        find(docs, "Job", f"{RELEASE}-migrations")
    ]
    for doc in targets:
        assert "database-ca" in [volume["name"] for volume in pod_spec(doc)["volumes"]]
        container = pod_spec(doc)["containers"][0]
        assert mount in container["volumeMounts"]
    for doc in targets[1:]:
        container = pod_spec(doc)["containers"][0]
        assert env_of(container)["PGSSLROOTCERT"]["value"] == "/etc/todo/database-ca/ca.crt"
        assert env_of(container)["DATABASE_SSLMODE"]["value"] == "verify-full"


# -- the primary's neighbourhood -----------------------------------------------------------


def test_primary_has_a_disruption_budget_and_stays_apart_from_its_replicas(default_docs):
    budget = find(default_docs, "PodDisruptionBudget", PRIMARY)
    primary = find(default_docs, "StatefulSet", PRIMARY)
    assert (
        budget["spec"]["selector"]["matchLabels"].items() <= primary["spec"]["template"]["metadata"]["labels"].items()
    )
    for name, other in ((PRIMARY, REPLICAS), (REPLICAS, PRIMARY)):
        statefulset = find(default_docs, "StatefulSet", name)
        term = pod_spec(statefulset)["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][
            0
        ]
        other_labels = find(default_docs, "StatefulSet", other)["spec"]["template"]["metadata"]["labels"]
        assert term["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= other_labels.items()
    # The user's own affinity replaces the default.
    mine = render(
        "--set",
        "postgresql.primary.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=disk",
    )
    assert "podAntiAffinity" not in pod_spec(find(mine, "StatefulSet", PRIMARY))["affinity"]


def test_database_sidecars_apply_rotated_passwords(default_docs):
    for name, role in ((PRIMARY, "primary"), (REPLICAS, "replica")):
        sidecar = next(
            c for c in pod_spec(find(default_docs, "StatefulSet", name))["containers"] if c["name"] == "password-sync"
        )
        assert sidecar["command"] == ["bash", "/opt/todo/password-sync.sh"]
        assert env_of(sidecar)["ROLE"]["value"] == role


def test_chart_metadata():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["home"].startswith("https://") and chart["sources"] and chart["icon"].startswith("https://")
    assert all(maintainer["name"] for maintainer in chart["maintainers"])


# -- backups of the bundled PostgreSQL ------------------------------------------------------


def test_backup_to_a_volume():
    docs = render_values_file(CHART / "ci" / "backup-values.yaml")
    cronjob = find(docs, "CronJob", f"{RELEASE}-backup")
    assert cronjob["spec"]["schedule"] == "30 2 * * *" and cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (dump,) = spec["containers"]
    assert dump["command"] == ["bash", "/opt/todo/backup.sh", "dump"]
    env = env_of(dump)
    assert env["PGHOST"]["value"] == f"{RELEASE}-postgresql-rw" and env["KEEP"]["value"] == "14"
    claim = find(docs, "PersistentVolumeClaim", f"{RELEASE}-backup")
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    assert volumes["backups"]["persistentVolumeClaim"]["claimName"] == f"{RELEASE}-backup"
    config = find(docs, "ConfigMap", f"{RELEASE}-backup")["data"]
    for name in ("backup.sh", "restore.sh"):
        assert config[name] == (CHART / "files" / name).read_text()


def test_backup_to_a_bucket():
    docs = render(
        "--set",
        "backup.enabled=true",
        "--set",
        "backup.destination=s3",
        "--set",
        "backup.s3.url=s3://bucket/todo",
        "--set",
        "backup.s3.existingSecret=s3-keys",
    )
    spec = find(docs, "CronJob", f"{RELEASE}-backup")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["dump"]
    (upload,) = spec["containers"]
    assert upload["command"] == ["bash", "/opt/todo/backup.sh", "upload"]
    assert upload["image"].startswith("docker.io/amazon/aws-cli:")
    assert env_of(upload)["S3_URL"]["value"] == "s3://bucket/todo"
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    assert "emptyDir" in volumes["backups"] and volumes["s3"]["secret"]["secretName"] == "s3-keys"
    assert not of_kind(docs, "PersistentVolumeClaim")


def test_backup_values_that_cannot_work_fail():
    assert "need backup.s3.url" in render_error("--set", "backup.enabled=true", "--set", "backup.destination=s3")
    external = ["--set", "postgresql.enabled=false", "--set", "externalDatabase.primary.host=db"]
    assert "backup.enabled needs the bundled PostgreSQL" in render_error(*external, "--set", "backup.enabled=true")


def test_every_container_reads_passwords_from_files(variants):
    for docs in variants.values():
        for doc in workloads(docs):
            for container in containers(doc):
                assert not [e for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
