"""Reference apps the stack is measured against: one process (per gunicorn worker)
doing the frontend's whole job - the same templates, the same data, the same form
POST - straight against PostgreSQL. ``lean``: plain psycopg2. ``orm``: Flask-SQLAlchemy.
Both read the replica and write the primary, from the same tables the stack uses."""
