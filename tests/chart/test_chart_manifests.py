"""What the rendered manifests promise: reads go to the replicas and writes to the
primary, every variable a service requires is set (its own settings module says which),
probes hit paths the services serve, passwords reach the pods as files from Secrets
(never as environment values), pods are locked down."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from chart_helpers import (
    CI_VALUES,
    RELEASE,
    REPO,
    SERVICES,
    containers,
    env_of,
    find,
    of_kind,
    pod_spec,
    render,
    render_values_file,
    service_container,
    workloads,
)

from todo_common.settings import Env
from todo_frontend.settings import FrontendSettings
from todo_reader.settings import ReaderSettings
from todo_writer.settings import WriterSettings

SETTINGS_CLASSES = {"frontend": FrontendSettings, "reader": ReaderSettings, "writer": WriterSettings}
PRIMARY_SERVICE = f"{RELEASE}-postgresql-rw"
READ_SERVICE = f"{RELEASE}-postgresql-ro"


def settings_source(service: str) -> str:
    return (REPO / "services" / service / f"todo_{service}" / "settings.py").read_text()


def required_variables(service: str) -> set[str]:
    """Names the settings module requires, read from its source: env.str(..., required=True),
    env.url(...) (required unless said otherwise) and DatabaseSettings.from_env(env, PREFIX)."""
    source = settings_source(service)
    names = set(re.findall(r'env\.str\(\s*"([A-Z0-9_]+)"[^)]*required=True', source))
    names |= {name for name, rest in re.findall(r'env\.url\(\s*"([A-Z0-9_]+)"([^)]*)\)', source) if "False" not in rest}
    common = (REPO / "services" / "common" / "todo_common" / "settings.py").read_text()
    suffixes = re.findall(r'env\.str\(f"\{prefix\}_([A-Z]+)", required=True\)', common)
    assert suffixes, "DatabaseSettings.from_env no longer matches the pattern this test reads"
    # The reader's FALLBACK_DATABASE is optional (only when its host is set); DATABASE is not.
    for prefix in re.findall(r'DatabaseSettings\.from_env\(\s*env,\s*"([A-Z_]+)"', source):
        if prefix != "FALLBACK_DATABASE":
            names |= {f"{prefix}_{suffix}" for suffix in suffixes}
    return names


def test_settings_modules_are_read():
    assert {"READER_URL", "WRITER_URL", "SECRET_KEY"} <= required_variables("frontend")
    assert {"DATABASE_HOST", "DATABASE_NAME", "DATABASE_USER"} <= required_variables("writer")
    assert {"DATABASE_HOST", "DATABASE_NAME", "DATABASE_USER"} <= required_variables("reader")


def set_variables(container: dict) -> set[str]:
    """Names the container sets, a NAME_FILE counting as NAME (todo_common.settings reads either)."""
    return {name.removesuffix("_FILE") if name.endswith("_FILE") else name for name in env_of(container)}


@pytest.mark.parametrize("service", SERVICES)
def test_chart_sets_every_required_variable(variants, service):
    for variant, docs in variants.items():
        missing = required_variables(service) - set_variables(service_container(docs, service))
        assert not missing, f"{variant}: the {service} lacks {sorted(missing)}"


def stand_in_environment(container: dict, files: Path) -> dict[str, str]:
    """The container's environment, each file under /etc/todo/secrets made here with a stand-in value."""
    env = {}
    for name, entry in env_of(container).items():
        value = entry["value"]
        if name.endswith("_FILE") and value.startswith("/etc/todo/secrets/"):
            path = files / value.removeprefix("/etc/todo/secrets/")
            path.write_text(f"stand-in {value.rsplit('/', 1)[-1]} 0123456789\n")
            value = str(path)
        env[name] = value
    return env


@pytest.mark.parametrize("service", SERVICES)
def test_services_accept_the_environment_the_chart_sets(variants, service, tmp_path):
    # The settings module itself validates what the chart renders (types, URLs, choices),
    # and reads the passwords from the files the chart mounts.
    for docs in variants.values():
        env = stand_in_environment(service_container(docs, service), tmp_path)
        settings = SETTINGS_CLASSES[service].from_env(Env(env))
        if service != "frontend" and "DATABASE_PASSWORD_FILE" in env:
            assert settings.database.password == "stand-in database-password 0123456789"
        if service == "frontend":
            assert settings.secret_key == "stand-in secret-key 0123456789"


def test_reader_reads_the_replicas_and_writer_writes_the_primary(default_docs):
    reader = env_of(service_container(default_docs, "reader"))
    writer = env_of(service_container(default_docs, "writer"))
    assert reader["DATABASE_HOST"]["value"] == READ_SERVICE
    assert reader["FALLBACK_DATABASE_HOST"]["value"] == PRIMARY_SERVICE
    assert writer["DATABASE_HOST"]["value"] == PRIMARY_SERVICE
    migrate = find(default_docs, "Job", f"{RELEASE}-migrations")
    assert env_of(pod_spec(migrate)["containers"][0])["DATABASE_HOST"]["value"] == PRIMARY_SERVICE


def test_database_services_select_primary_and_replicas(default_docs):
    primary = find(default_docs, "StatefulSet", f"{RELEASE}-postgresql-primary")
    replicas = find(default_docs, "StatefulSet", f"{RELEASE}-postgresql-read")
    for service_name, target in ((PRIMARY_SERVICE, primary), (READ_SERVICE, replicas)):
        selector = find(default_docs, "Service", service_name)["spec"]["selector"]
        labels = target["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), f"{service_name} does not select {target['metadata']['name']}"
    other = find(default_docs, "Service", READ_SERVICE)["spec"]["selector"]
    assert not other.items() <= primary["spec"]["template"]["metadata"]["labels"].items()


def test_frontend_calls_reader_and_writer_services(default_docs):
    env = env_of(service_container(default_docs, "frontend"))
    for service in ("reader", "writer"):
        port = find(default_docs, "Service", f"{RELEASE}-{service}")["spec"]["ports"][0]["port"]
        assert env[f"{service.upper()}_URL"]["value"] == f"http://{RELEASE}-{service}:{port}"


def test_external_database_points_reader_at_ro_and_writer_at_rw():
    docs = render_values_file(REPO / "charts/todo/ci/external-database-values.yaml")
    assert not [d for d in docs if d["kind"] == "StatefulSet"]
    assert env_of(service_container(docs, "reader"))["DATABASE_HOST"]["value"] == "todo-db-ro.databases.svc"
    assert env_of(service_container(docs, "reader"))["DATABASE_SSLMODE"]["value"] == "verify-full"
    assert env_of(service_container(docs, "writer"))["DATABASE_HOST"]["value"] == "todo-db-rw.databases.svc"


def test_external_database_without_replica_reads_the_primary():
    docs = render(
        "--set",
        "postgresql.enabled=false",
        "--set",
        "externalDatabase.primary.host=db.example.com",
        "--set",
        "externalDatabase.primary.existingSecret=db",
    )
    assert env_of(service_container(docs, "reader"))["DATABASE_HOST"]["value"] == "db.example.com"


def served_paths() -> set[str]:
    health = (REPO / "services" / "common" / "todo_common" / "health.py").read_text()
    return set(re.findall(r'@bp\.get\("([^"]+)"\)', health))


def test_probes_hit_paths_the_services_serve(variants):
    paths = served_paths()
    assert {"/healthz", "/readyz"} <= paths
    for docs in variants.values():
        for service in SERVICES:
            container = service_container(docs, service)
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"  # no dependency: no restart loops
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert container[probe]["httpGet"]["path"] in paths
                assert container[probe]["httpGet"]["port"] == "http"
            assert container["ports"][0]["name"] == "http"


SECRET_NAMES = re.compile(r"(PASSWORD|SECRET|KEY|KEY_ID)(_FILE)?$")


def secret_mounts(doc: dict, container: dict) -> list[str]:
    """Mount paths of the container's volumes that hold only Secrets."""
    volumes = {volume["name"]: volume for volume in pod_spec(doc).get("volumes", [])}
    paths = []
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"], {})  # a StatefulSet's claims are not among them
        sources = volume.get("projected", {}).get(
            "sources", [{"secret": volume["secret"]}] if "secret" in volume else []
        )
        if sources and all(set(source) == {"secret"} for source in sources):
            paths.append(mount["mountPath"].rstrip("/") + "/")
    return paths


# The chart's own scripts, given inline as `python -c`: code of this repository, not values.
CHART_SCRIPTS = {path.read_text() for path in (REPO / "charts" / "todo" / "files").glob("*.*")}


def test_passwords_come_only_as_files_from_secrets(variants):
    for variant, docs in variants.items():
        for doc in workloads(docs):
            for container in containers(doc):
                where = f"{variant}: {doc['metadata']['name']}/{container['name']}"
                for name, entry in env_of(container).items():
                    assert "secretKeyRef" not in entry.get("valueFrom", {}), f"{where}: {name} is an environment value"
                    if name == "IDEMPOTENCY_KEY_TTL_HOURS":  # not a secret: a TTL
                        continue
                    if SECRET_NAMES.search(name):
                        assert name.endswith("_FILE"), f"{where}: {name} is a plain value"
                        assert entry["value"].startswith(tuple(secret_mounts(doc, container))), f"{where}: {name}"
                argv = container.get("command", []) + container.get("args", [])
                words = " ".join(word for word in argv if word not in CHART_SCRIPTS)
                assert "password" not in words.lower().replace("password_encryption", "").replace(
                    "password-sync", ""
                ), words


def test_no_generated_value_outside_secrets(default_docs):
    secrets = of_kind(default_docs, "Secret")
    values = {value for secret in secrets for value in secret["data"].values()}
    assert len(values) == 5  # three database passwords, the session key and the service-token key
    plain = [doc for doc in default_docs if doc["kind"] != "Secret"]
    text = str(plain)
    assert not any(value in text for value in values)


def test_pods_are_locked_down(variants):
    for variant, docs in variants.items():
        for doc in workloads(docs):
            spec = pod_spec(doc)
            where = f"{variant}: {doc['kind']} {doc['metadata']['name']}"
            assert spec["automountServiceAccountToken"] is False, where
            assert spec["securityContext"]["runAsNonRoot"] is True, where
            assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
            for container in containers(doc):
                context = container["securityContext"]
                assert context["readOnlyRootFilesystem"] is True, where
                assert context["allowPrivilegeEscalation"] is False, where
                assert context["capabilities"] == {"drop": ["ALL"]}, where
                assert "resources" in container and container["resources"]["limits"], where


def test_python_services_have_writable_tmp(default_docs):
    for service in SERVICES:
        deployment = find(default_docs, "Deployment", f"{RELEASE}-{service}")
        mounts = {m["mountPath"]: m["name"] for m in service_container(default_docs, service)["volumeMounts"]}
        assert mounts == {"/tmp": "tmp", "/etc/todo/secrets": "secrets"}
        volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}
        assert "emptyDir" in volumes["tmp"]


def test_rollouts_never_drop_below_desired_and_stop_gracefully(default_docs):
    for service in SERVICES:
        deployment = find(default_docs, "Deployment", f"{RELEASE}-{service}")
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        spec = pod_spec(deployment)
        assert spec["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
        pre_stop = spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
        graceful = int(env_of(spec["containers"][0])["GUNICORN_GRACEFUL_TIMEOUT"]["value"])
        assert int(pre_stop[-1]) + graceful < spec["terminationGracePeriodSeconds"]


def test_default_services(default_docs):
    assert find(default_docs, "Service", f"{RELEASE}-frontend")["spec"]["type"] == "LoadBalancer"
    for service in ("reader", "writer"):
        assert find(default_docs, "Service", f"{RELEASE}-{service}")["spec"]["type"] == "ClusterIP"
    # The three services and the primary (whose budget allows no voluntary eviction).
    assert len(of_kind(default_docs, "PodDisruptionBudget")) == 4
    assert find(default_docs, "PodDisruptionBudget", f"{RELEASE}-postgresql-primary")["spec"]["maxUnavailable"] == 0
    assert not of_kind(default_docs, "HorizontalPodAutoscaler")
    assert not of_kind(default_docs, "Ingress")


def test_frontend_service_type_and_load_balancer_ip():
    docs = render("--set", "frontend.service.loadBalancerIP=203.0.113.7")
    assert find(docs, "Service", f"{RELEASE}-frontend")["spec"]["loadBalancerIP"] == "203.0.113.7"
    for kind in ("ClusterIP", "NodePort"):
        spec = find(render("--set", f"frontend.service.type={kind}"), "Service", f"{RELEASE}-frontend")["spec"]
        assert spec["type"] == kind and "loadBalancerIP" not in spec


def test_ingress_and_autoscalers():
    docs = render_values_file(REPO / "charts/todo/ci/ingress-hpa-values.yaml")
    ingress = find(docs, "Ingress", RELEASE)
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": f"{RELEASE}-frontend", "port": {"name": "http"}}
    for service in SERVICES:
        hpa = find(docs, "HorizontalPodAutoscaler", f"{RELEASE}-{service}")
        assert hpa["spec"]["scaleTargetRef"]["name"] == f"{RELEASE}-{service}"
        # With an autoscaler the Deployment leaves the count to it.
        assert "replicas" not in find(docs, "Deployment", f"{RELEASE}-{service}")["spec"]


def test_replica_count_and_slot_names():
    docs = render_values_file(REPO / "charts/todo/ci/read-replicas-values.yaml")
    replicas = find(docs, "StatefulSet", f"{RELEASE}-postgresql-read")
    assert replicas["spec"]["replicas"] == 3
    bootstrap = pod_spec(replicas)["initContainers"][0]
    assert bootstrap["command"] == ["bash", "/opt/todo/replica-start.sh"]
    assert env_of(bootstrap)["PRIMARY_HOST"]["value"] == PRIMARY_SERVICE
    # The count reaches the slot clean-up Job, never a database pod.
    cleanup = pod_spec(find(docs, "Job", f"{RELEASE}-postgresql-slots"))["containers"][0]
    assert env_of(cleanup)["REPLICA_COUNT"]["value"] == "3"
    args = pod_spec(find(docs, "StatefulSet", f"{RELEASE}-postgresql-primary"))["containers"][0]["args"]
    assert "max_slot_wal_keep_size=8GB" in args
    assert find(docs, "PodDisruptionBudget", f"{RELEASE}-postgresql-read")


def test_migrations_job_is_a_hook_after_install_and_before_upgrade(default_docs):
    job = find(default_docs, "Job", f"{RELEASE}-migrations")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,pre-upgrade"
    container = pod_spec(job)["containers"][0]
    assert container["command"] == ["flask", "--app", "todo_writer", "migrate"]
    assert required_variables("writer") <= set(env_of(container))


def network_policy_sources(docs: list[dict], name: str) -> list[dict]:
    policy = find(docs, "NetworkPolicy", name)
    return [peer for rule in policy["spec"]["ingress"] for peer in rule.get("from", [])]


def test_network_policies(default_docs):
    frontend_labels = find(default_docs, "Deployment", f"{RELEASE}-frontend")["spec"]["selector"]["matchLabels"]
    for service in ("reader", "writer"):
        assert network_policy_sources(default_docs, f"{RELEASE}-{service}") == [
            {"podSelector": {"matchLabels": frontend_labels}}
        ]
    reader_labels = find(default_docs, "Deployment", f"{RELEASE}-reader")["spec"]["selector"]["matchLabels"]
    assert network_policy_sources(default_docs, f"{RELEASE}-postgresql-read") == [
        {"podSelector": {"matchLabels": reader_labels}}
    ]
    (peer,) = network_policy_sources(default_docs, f"{RELEASE}-postgresql-primary")
    components = next(e for e in peer["podSelector"]["matchExpressions"] if e["key"].endswith("component"))
    assert sorted(components["values"]) == [
        "backup",
        "migrations",
        "postgresql-read",
        "postgresql-slots",
        "reader",
        "writer",
    ]
    migrate = find(default_docs, "Job", f"{RELEASE}-migrations")
    assert migrate["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "migrations"


def test_scripts_in_config_maps_are_the_chart_files(default_docs):
    files = Path(REPO / "charts/todo/files")
    config = find(default_docs, "ConfigMap", f"{RELEASE}-postgresql")["data"]
    shipped = {path.name for path in files.glob("*.sh")} - {"backup.sh", "restore.sh"}
    assert set(config) - {"pg_hba.conf"} == shipped
    for name in shipped:
        assert config[name] == (files / name).read_text()


def test_every_values_file_renders_each_service(variants):
    assert len(variants) == 1 + len(CI_VALUES)
    for docs in variants.values():
        for service in SERVICES:
            assert f"/todo-{service}:" in service_container(docs, service)["image"]


def test_chart_defaults_equal_the_services_own_defaults(default_docs):
    # Each default has one source per layer: values.yaml for the chart, the shared
    # gunicorn configuration and settings module for the processes. They must agree.
    from todo_common import gunicorn_conf
    from todo_common.settings import DEFAULT_THREADS

    for service in SERVICES:
        container = service_container(default_docs, service)
        env = env_of(container)
        assert int(env["PORT"]["value"]) == gunicorn_conf.DEFAULT_PORT
        assert container["ports"][0]["containerPort"] == gunicorn_conf.DEFAULT_PORT
        assert int(env["GUNICORN_GRACEFUL_TIMEOUT"]["value"]) == gunicorn_conf.DEFAULT_GRACEFUL_TIMEOUT
        assert int(env["GUNICORN_THREADS"]["value"]) == DEFAULT_THREADS


def test_one_port_value_moves_container_port_and_env_together():
    docs = render("--set", "server.port=9090", "--set", "server.gracefulTimeoutSeconds=40")
    for service in SERVICES:
        container = service_container(docs, service)
        assert env_of(container)["PORT"]["value"] == "9090"
        assert container["ports"][0]["containerPort"] == 9090
        spec = pod_spec(find(docs, "Deployment", f"{RELEASE}-{service}"))
        assert spec["terminationGracePeriodSeconds"] > 40 + 5
