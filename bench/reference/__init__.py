"""Reference apps the stack is measured against, each one process per gunicorn worker
straight against PostgreSQL. ``original``: the original app as shipped (its markup,
Flask-SQLAlchemy's default pool with ``pool_pre_ping``, the primary) - what issue 12's
targets compare with. For information: ``lean`` (plain psycopg2) and ``orm``
(Flask-SQLAlchemy) doing the frontend's whole job with its own templates, reading the
replica and writing the primary."""


def sqlalchemy_url(dsn: str) -> str:
    """A SQLAlchemy URL for a libpq ``key=value`` string (host, port, dbname, user, password)."""
    fields = dict(part.split("=", 1) for part in dsn.split())
    return (
        f"postgresql+psycopg2://{fields['user']}:{fields['password']}@{fields['host']}:{fields['port']}"
        f"/{fields['dbname']}"
    )
