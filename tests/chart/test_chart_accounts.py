"""What the chart sets for accounts: the service-token key reaches all three services as
a file of the frontend's Secret (reader and writer see only that key), the migration
Job needs no key, the writer's limits and the migration owner come from values, and
PUBLIC_URL, TRUSTED_PROXIES and the Secure cookie follow the chart's ingress. The
services' own settings modules read what the chart renders."""

from __future__ import annotations

import pytest
from chart_helpers import RELEASE, SERVICES, env_of, find, pod_spec, render, service_container

from todo_common.settings import Env
from todo_frontend.settings import FrontendSettings
from todo_writer.settings import WriterSettings

KEY_FILE = "/etc/todo/secrets/service-token-key"
PREVIOUS_KEY_FILE = "/etc/todo/secrets/service-token-previous-key"
SECRET = f"{RELEASE}-frontend"
KEY = {"SERVICE_TOKEN_KEY": "k" * 32}


def plain_env(container: dict) -> dict[str, str]:
    """The container's variables without the *_FILE ones (their files exist only in the pod)."""
    return {name: entry["value"] for name, entry in env_of(container).items() if not name.endswith("_FILE")}


def secret_items(docs: list[dict], workload: str, kind: str = "Deployment") -> dict[str, set[str]]:
    """Secret name -> the keys the workload's "secrets" volume mounts from it."""
    volumes = {volume["name"]: volume for volume in pod_spec(find(docs, kind, workload))["volumes"]}
    found: dict[str, set[str]] = {}
    for source in volumes.get("secrets", {}).get("projected", {}).get("sources", []):
        secret = source["secret"]
        found.setdefault(secret["name"], set()).update(item["key"] for item in secret["items"])
    return found


def test_service_token_key_reaches_every_service_as_a_file(variants):
    for variant, docs in variants.items():
        for service in SERVICES:
            env = env_of(service_container(docs, service))
            assert env["SERVICE_TOKEN_KEY_FILE"]["value"] == KEY_FILE, f"{variant}: {service}"
            assert "SERVICE_TOKEN_KEY" not in env and "SERVICE_TOKEN_PREVIOUS_KEY_FILE" not in env
            # The frontend's Secret (generated, or frontend.existingSecret in some variants).
            (name,) = [n for n, keys in secret_items(docs, f"{RELEASE}-frontend").items() if "secret-key" in keys]
            keys = secret_items(docs, f"{RELEASE}-{service}")[name]
            # Reader and writer get the key that checks calls, never the session key.
            assert keys == ({"secret-key", "service-token-key"} if service == "frontend" else {"service-token-key"})


def test_generated_secret_holds_the_service_token_key(default_docs):
    secret = find(default_docs, "Secret", SECRET)
    assert set(secret["data"]) == {"secret-key", "service-token-key"}
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_previous_key_is_accepted_by_reader_and_writer_only_while_rotating():
    docs = render("--set", "serviceToken.acceptPreviousKey=true")
    assert "service-token-previous-key" in find(docs, "Secret", SECRET)["data"]
    for service in ("reader", "writer"):
        assert env_of(service_container(docs, service))["SERVICE_TOKEN_PREVIOUS_KEY_FILE"]["value"] == PREVIOUS_KEY_FILE
        assert secret_items(docs, f"{RELEASE}-{service}")[SECRET] == {"service-token-key", "service-token-previous-key"}
    # The frontend signs with the current key only.
    assert "SERVICE_TOKEN_PREVIOUS_KEY_FILE" not in env_of(service_container(docs, "frontend"))
    assert secret_items(docs, f"{RELEASE}-frontend")[SECRET] == {"secret-key", "service-token-key"}


def test_rotation_with_an_existing_secret_mounts_its_previous_key():
    docs = render("--set", "frontend.existingSecret=my-keys", "--set", "serviceToken.acceptPreviousKey=true")
    assert secret_items(docs, f"{RELEASE}-writer")["my-keys"] == {"service-token-key", "service-token-previous-key"}
    assert not [doc for doc in docs if doc["kind"] == "Secret" and doc["metadata"]["name"] == SECRET]


def migration_container(docs: list[dict]) -> dict:
    return pod_spec(find(docs, "Job", f"{RELEASE}-migrations"))["containers"][0]


def test_migration_job_mounts_no_key(variants):
    # A pre-upgrade hook runs before the upgrade's Secret changes: on the upgrade that
    # adds service-token-key, a Job mounting it would never start. `migrate` needs none.
    for variant, docs in variants.items():
        env = env_of(migration_container(docs))
        assert not any(name.startswith("SERVICE_TOKEN") for name in env), variant
        assert SECRET not in secret_items(docs, f"{RELEASE}-migrations", "Job"), variant


def test_writer_settings_accept_the_migration_job_environment(default_docs):
    # What the Job's `flask --app todo_writer migrate` loads.
    env = plain_env(migration_container(default_docs))
    assert WriterSettings.from_env(Env(env)).database.host == f"{RELEASE}-postgresql-rw"


LIMITS = {
    "maxItemsPerList": ("MAX_ITEMS_PER_LIST", "max_items_per_list"),
    "maxListsPerAccount": ("MAX_LISTS_PER_ACCOUNT", "max_lists_per_account"),
    "maxApiTokensPerAccount": ("MAX_API_TOKENS_PER_ACCOUNT", "limits.api_tokens_per_account"),
    "signupsPerAddressPerHour": ("SIGNUPS_PER_ADDRESS_PER_HOUR", "limits.signups_per_address_per_hour"),
    "loginFailuresPerAccount": ("LOGIN_FAILURES_PER_ACCOUNT", "limits.login_failures_per_account"),
    "loginFailuresPerAddress": ("LOGIN_FAILURES_PER_ADDRESS", "limits.login_failures_per_address"),
    "loginThrottleWindowSeconds": ("LOGIN_THROTTLE_WINDOW_SECONDS", "limits.login_window_seconds"),
}


def setting(settings, path: str):
    for part in path.split("."):
        settings = getattr(settings, part)
    return settings


def writer_settings(docs: list[dict]) -> WriterSettings:
    return WriterSettings.from_env(Env({**plain_env(service_container(docs, "writer")), **KEY}))


def test_writer_limits_default_to_the_writers_own_defaults(default_docs):
    chart = writer_settings(default_docs)
    own = WriterSettings.from_env(Env({"DATABASE_HOST": "h", "DATABASE_NAME": "n", "DATABASE_USER": "u", **KEY}))
    for value, (variable, path) in LIMITS.items():
        assert variable in env_of(service_container(default_docs, "writer")), value
        assert setting(chart, path) == setting(own, path), value


def test_writer_limits_come_from_values():
    args = [arg for number, value in enumerate(LIMITS) for arg in ("--set", f"accounts.limits.{value}={number + 2}")]
    docs = render(*args)
    settings = writer_settings(docs)
    for number, (value, (variable, path)) in enumerate(LIMITS.items()):
        assert env_of(service_container(docs, "writer"))[variable]["value"] == str(number + 2)
        assert setting(settings, path) == number + 2, value
    # Only the writer enforces them.
    for service in ("frontend", "reader"):
        assert not {variable for variable, _ in LIMITS.values()} & set(env_of(service_container(docs, service)))


def test_migration_owner_reaches_the_job_only_when_set(default_docs):
    assert "MIGRATE_OWNER" not in env_of(migration_container(default_docs))
    docs = render("--set", "migrations.owner=shared.list-owner")
    assert env_of(migration_container(docs))["MIGRATE_OWNER"]["value"] == "shared.list-owner"
    assert find(docs, "Job", f"{RELEASE}-migrations")["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "flask",
        "--app",
        "todo_writer",
        "migrate",
    ]
    # The services themselves never adopt anything.
    for service in SERVICES:
        assert "MIGRATE_OWNER" not in env_of(service_container(docs, service))


INGRESS = (
    *("--set", "ingress.enabled=true", "--set", "ingress.hosts[0].host=todo.example.org"),
    *("--set", "ingress.hosts[0].paths[0].path=/", "--set", "ingress.hosts[0].paths[0].pathType=Prefix"),
)
TLS = ("--set", "ingress.tls[0].secretName=tls", "--set", "ingress.tls[0].hosts[0]=todo.example.org")


@pytest.mark.parametrize(
    ("args", "public_url", "proxies", "secure"),
    [
        ((), None, "0", False),
        (INGRESS, "http://todo.example.org", "1", False),
        ((*INGRESS, *TLS), "https://todo.example.org", "1", True),
        # A TLS entry for another host does not make the first one https.
        (
            (*INGRESS, "--set", "ingress.tls[0].secretName=x", "--set", "ingress.tls[0].hosts[0]=other.org"),
            "http://todo.example.org",
            "1",
            False,
        ),
        ((*INGRESS, *TLS, "--set", "frontend.trustedProxies=2"), "https://todo.example.org", "2", True),
        ((*INGRESS, "--set", "frontend.trustedProxies=0"), "http://todo.example.org", "0", False),
        (("--set", "frontend.publicUrl=https://todo.example.net/"), "https://todo.example.net", "0", True),
        (
            (*INGRESS, *TLS, "--set", "frontend.publicUrl=https://todo.example.net"),
            "https://todo.example.net",
            "1",
            True,
        ),
        ((*INGRESS, *TLS, "--set", "frontend.sessionCookieSecure=false"), "https://todo.example.org", "1", False),
        (("--set", "frontend.sessionCookieSecure=true"), None, "0", True),
    ],
)
def test_public_url_proxies_and_secure_cookie_follow_the_ingress(args, public_url, proxies, secure):
    env = env_of(service_container(render(*args), "frontend"))
    assert env.get("PUBLIC_URL", {}).get("value") == public_url
    assert env["TRUSTED_PROXIES"]["value"] == proxies
    # What the frontend makes of it.
    values = {name: entry["value"] for name, entry in env.items() if not name.endswith("_FILE")}
    settings = FrontendSettings.from_env(Env({**values, "SECRET_KEY": "s" * 16, **KEY}))
    assert (settings.public_url, settings.trusted_proxies, settings.session_cookie_secure) == (
        public_url,
        int(proxies),
        secure,
    )
