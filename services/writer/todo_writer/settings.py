"""The writer's settings, all from environment variables (see the chart's values)."""

from __future__ import annotations

from dataclasses import dataclass, field

from todo_common.service_token import keys_from_env
from todo_common.settings import DatabaseSettings, Env, threads_per_worker

from .accounts import Limits


@dataclass(frozen=True)
class WriterSettings:
    database: DatabaseSettings  # DATABASE_*: the primary
    # SERVICE_TOKEN_KEY (+ SERVICE_TOKEN_PREVIOUS_KEY while rotating); never in a repr
    service_token_keys: tuple[str, ...] = field(repr=False)
    max_body_bytes: int  # MAX_BODY_BYTES: larger requests get 413 unread
    idempotency_ttl_hours: int  # IDEMPOTENCY_KEY_TTL_HOURS
    max_items_per_list: int  # MAX_ITEMS_PER_LIST
    max_lists_per_account: int  # MAX_LISTS_PER_ACCOUNT
    limits: Limits  # sign-ups, failed log-ins and API tokens (see Limits)

    @classmethod
    def from_env(cls, env: Env | None = None) -> WriterSettings:
        env = env or Env()
        return cls(
            database=DatabaseSettings.from_env(
                env, "DATABASE", application_name="todo-writer", pool_size=threads_per_worker(env)
            ),
            # Not needed by the commands (migrate, set-password); serving refuses to start without it.
            service_token_keys=keys_from_env(env, required=False),
            max_body_bytes=env.int("MAX_BODY_BYTES", 64 * 1024, minimum=1024),
            idempotency_ttl_hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", 24, minimum=1),
            max_items_per_list=env.int("MAX_ITEMS_PER_LIST", 10_000, minimum=1),
            max_lists_per_account=env.int("MAX_LISTS_PER_ACCOUNT", 50, minimum=1),
            limits=Limits(
                signups_per_address_per_hour=env.int("SIGNUPS_PER_ADDRESS_PER_HOUR", 30, minimum=1),
                login_failures_per_account=env.int("LOGIN_FAILURES_PER_ACCOUNT", 10, minimum=1),
                login_failures_per_address=env.int("LOGIN_FAILURES_PER_ADDRESS", 100, minimum=1),
                login_window_seconds=env.int("LOGIN_THROTTLE_WINDOW_SECONDS", 900, minimum=1),
                api_tokens_per_account=env.int("MAX_API_TOKENS_PER_ACCOUNT", 20, minimum=1),
            ),
        )
