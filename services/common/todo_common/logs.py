"""One log format for every service: a line per record on stderr, level from LOG_LEVEL."""

from __future__ import annotations

import logging
import os


def configure(service: str) -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    root = logging.getLogger()
    if any(getattr(handler, "_todo", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._todo = True  # mark ours so a second app in one process doesn't add another
    handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
