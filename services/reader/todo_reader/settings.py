"""The reader's settings, all from environment variables (see the chart's values)."""

from __future__ import annotations

from dataclasses import dataclass, field

from todo_common.service_token import keys_from_env
from todo_common.settings import DatabaseSettings, Env, threads_per_worker


@dataclass(frozen=True)
class ReaderSettings:
    database: DatabaseSettings  # DATABASE_*: the replica (read-only service)
    # FALLBACK_DATABASE_*: the primary, used only when the replica is too far behind
    # a caller's own write; unset means "answer 503 instead".
    fallback_database: DatabaseSettings | None
    # SERVICE_TOKEN_KEY (+ SERVICE_TOKEN_PREVIOUS_KEY while rotating); never in a repr
    service_token_keys: tuple[str, ...] = field(repr=False)
    lsn_wait_timeout_ms: int  # LSN_WAIT_TIMEOUT_MS: longest wait for the replica to catch up
    # LSN_MAX_CONCURRENT_WAITS: reads of one process that may wait at once; the rest go
    # to the fallback (or 503) at once, so waits never starve other reads
    lsn_max_concurrent_waits: int
    max_page_size: int  # MAX_PAGE_SIZE

    @property
    def lsn_wait_timeout(self) -> float:
        return self.lsn_wait_timeout_ms / 1000

    @classmethod
    def from_env(cls, env: Env | None = None) -> ReaderSettings:
        env = env or Env()
        pool_size = threads_per_worker(env)
        fallback = None
        if env.str("FALLBACK_DATABASE_HOST"):
            fallback = DatabaseSettings.from_env(
                env, "FALLBACK_DATABASE", application_name="todo-reader-fallback", pool_size=pool_size
            )
        return cls(
            database=DatabaseSettings.from_env(env, "DATABASE", application_name="todo-reader", pool_size=pool_size),
            fallback_database=fallback,
            service_token_keys=keys_from_env(env),
            lsn_wait_timeout_ms=env.int("LSN_WAIT_TIMEOUT_MS", 1000, minimum=0, maximum=60000),
            lsn_max_concurrent_waits=env.int(
                "LSN_MAX_CONCURRENT_WAITS", max(1, pool_size // 2), minimum=1, maximum=pool_size
            ),
            max_page_size=env.int("MAX_PAGE_SIZE", 500, minimum=1, maximum=10000),
        )
