"""The local stack: PostgreSQL primary + streaming replica and the three services,
started the way the Helm chart starts them. Used by `make run`, the integration
and end-to-end tests and the benchmark."""

from .stack import Ports, Stack

__all__ = ["Ports", "Stack"]
