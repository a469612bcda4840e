"""The writer's settings, all from environment variables (see the chart's values)."""

from __future__ import annotations

from dataclasses import dataclass

from todo_common.settings import DatabaseSettings, Env, threads_per_worker


@dataclass(frozen=True)
class WriterSettings:
    database: DatabaseSettings  # DATABASE_*: the primary
    max_body_bytes: int  # MAX_BODY_BYTES: larger requests get 413 unread
    idempotency_ttl_hours: int  # IDEMPOTENCY_KEY_TTL_HOURS

    @classmethod
    def from_env(cls, env: Env | None = None) -> WriterSettings:
        env = env or Env()
        return cls(
            database=DatabaseSettings.from_env(
                env, "DATABASE", application_name="todo-writer", pool_size=threads_per_worker(env)
            ),
            max_body_bytes=env.int("MAX_BODY_BYTES", 64 * 1024, minimum=1024),
            idempotency_ttl_hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", 24, minimum=1),
        )
