"""Code shared by the Todo services. Nothing here does I/O at import time."""
