"""The ORM reference: Flask + Flask-SQLAlchemy, the way the original single-process app
was built (models, a session per request), with a replica bind for reads. Its pool is
as large as the thread count, so no request opens a connection of its own."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, Boolean, Integer, SmallInteger, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .app import make_app, settings


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Todo(db.Model):
    __tablename__ = "todo_list"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int | None] = mapped_column(Integer)

    @property
    def order(self):
        return self.position


class TodoCounts(db.Model):
    __tablename__ = "todo_counts"
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    total: Mapped[int] = mapped_column(BigInteger)
    completed: Mapped[int] = mapped_column(BigInteger)


def _sqlalchemy_url(dsn: str) -> str:
    fields = dict(part.split("=", 1) for part in dsn.split())
    return (
        f"postgresql+psycopg2://{fields['user']}:{fields['password']}@{fields['host']}:{fields['port']}"
        f"/{fields['dbname']}"
    )


def create_app():
    config = settings()
    pool = {"pool_size": config["pool_size"], "max_overflow": 0, "pool_pre_ping": False}

    def page(status: str, after: int, limit: int) -> dict:
        session = db.session
        query = select(Todo).where(Todo.id > after)
        if status == "active":
            query = query.where(Todo.completed.is_(False))
        elif status == "completed":
            query = query.where(Todo.completed.is_(True))
        rows = session.execute(query.order_by(Todo.id).limit(limit + 1), bind_arguments={"bind": replica}).scalars()
        rows = rows.all()
        total, completed = session.execute(
            select(func.coalesce(func.sum(TodoCounts.total), 0), func.coalesce(func.sum(TodoCounts.completed), 0)),
            bind_arguments={"bind": replica},
        ).one()
        items = rows[:limit]
        return {
            "items": items,
            "next_after": items[-1].id if len(rows) > limit else None,
            "counts": {"all": total, "active": total - completed, "completed": completed},
        }

    def add(name: str) -> None:
        db.session.add(Todo(name=name))
        db.session.commit()

    app = make_app(__name__, page, add, config)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=_sqlalchemy_url(config["primary"]),
        SQLALCHEMY_BINDS={"replica": {"url": _sqlalchemy_url(config["replica"]), **pool}},
        SQLALCHEMY_ENGINE_OPTIONS=pool,
    )
    db.init_app(app)
    with app.app_context():
        replica = db.engines["replica"]
    return app
