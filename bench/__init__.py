"""`make bench`: the Todo stack measured against a lean reference app, an ORM
reference app and PostgreSQL's own limit (pgbench), all on this machine, in one run.

Run as ``python -m bench`` (``--smoke`` for the short mode the tests use)."""
