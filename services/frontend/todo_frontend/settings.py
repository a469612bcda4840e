"""The frontend's settings, all from environment variables (see the chart's values)."""

from __future__ import annotations

from dataclasses import dataclass, field

from todo_common.service_token import keys_from_env
from todo_common.settings import Env, SettingsError, threads_per_worker

# Where API links may point when neither PUBLIC_URL nor ALLOWED_HOSTS says: this machine.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


DEFAULT_LSN_KEEP_SECONDS = 60.0


@dataclass(frozen=True)
class FrontendSettings:
    reader_url: str  # READER_URL, e.g. http://todo-reader:8080
    writer_url: str  # WRITER_URL, e.g. http://todo-writer:8080
    # SECRET_KEY: signs the session cookie and CSRF tokens; keep it across upgrades
    secret_key: str = field(repr=False)
    upstream_timeout: float  # UPSTREAM_TIMEOUT_SECONDS: per call to reader/writer
    upstream_pool_size: int  # UPSTREAM_POOL_SIZE: keep-alive connections per upstream per process
    page_size: int  # PAGE_SIZE: items per list page
    api_page_size: int  # API_PAGE_SIZE: most todos one GET /api/todos returns
    session_cookie_secure: bool  # SESSION_COOKIE_SECURE: default true when PUBLIC_URL is https
    public_url: str | None  # PUBLIC_URL: where people reach the site; API links are built from it
    trusted_proxies: int  # TRUSTED_PROXIES: proxies in front whose X-Forwarded-* headers count
    # ALLOWED_HOSTS: without PUBLIC_URL, the hosts API links may be built for (comma-separated;
    # "*", "name", "name:port", ".domain"); default: this machine's names only
    allowed_hosts: tuple[str, ...]
    service_token_key: str = field(repr=False)  # SERVICE_TOKEN_KEY: signs calls to reader and writer
    max_body_bytes: int  # MAX_BODY_BYTES
    # LSN_KEEP_SECONDS: a session keeps its latest write's LSN at least this long, even once
    # the replica has replayed it (a crashed replica may show an older state for a moment)
    lsn_keep_seconds: float

    @classmethod
    def from_env(cls, env: Env | None = None) -> FrontendSettings:
        env = env or Env()
        secret_key = env.str("SECRET_KEY", required=True)
        if len(secret_key) < 16:
            raise SettingsError("SECRET_KEY must be at least 16 characters (use a random value)")
        public_url = env.url("PUBLIC_URL", required=False)
        return cls(
            reader_url=env.url("READER_URL"),
            writer_url=env.url("WRITER_URL"),
            secret_key=secret_key,
            upstream_timeout=env.float("UPSTREAM_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            upstream_pool_size=env.int("UPSTREAM_POOL_SIZE", threads_per_worker(env), minimum=1, maximum=200),
            page_size=env.int("PAGE_SIZE", 100, minimum=1, maximum=500),
            api_page_size=env.int("API_PAGE_SIZE", 500, minimum=1, maximum=10000),
            session_cookie_secure=env.bool("SESSION_COOKIE_SECURE", (public_url or "").startswith("https:")),
            public_url=public_url,
            trusted_proxies=env.int("TRUSTED_PROXIES", 0, minimum=0, maximum=10),
            allowed_hosts=tuple(
                host.strip().lower()
                for host in (env.str("ALLOWED_HOSTS") or ",".join(LOCAL_HOSTS)).split(",")
                if host.strip()
            ),
            service_token_key=keys_from_env(env)[0],
            max_body_bytes=env.int("MAX_BODY_BYTES", 64 * 1024, minimum=1024),
            lsn_keep_seconds=env.float("LSN_KEEP_SECONDS", DEFAULT_LSN_KEEP_SECONDS),
        )
