"""The ORM reference (information): Flask + Flask-SQLAlchemy (models, a session per
request) rendering the frontend's own template, with a replica bind for reads: load the
session's account (as a Flask-Login user loader would), its lists (the switcher, and
the one shown, with its counts), then the page of items. Its pool is as large as the
thread count, so no request opens a connection of its own."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from todo_common.service_token import Actor

from . import sqlalchemy_url
from .app import make_app, settings


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Account(db.Model):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    session_generation: Mapped[int] = mapped_column(Integer)


class TodoList(db.Model):
    __tablename__ = "todo_lists"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(100))
    total: Mapped[int] = mapped_column(BigInteger)
    completed: Mapped[int] = mapped_column(BigInteger)


class Todo(db.Model):
    __tablename__ = "todo_list"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("todo_lists.id"))
    name: Mapped[str] = mapped_column(String(100))
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int | None] = mapped_column(Integer)

    @property
    def order(self):
        return self.position


def _status_filter(query, status: str):
    if status == "active":
        return query.where(Todo.completed.is_(False))
    if status == "completed":
        return query.where(Todo.completed.is_(True))
    return query


def create_app():
    config = settings()
    pool = {"pool_size": config["pool_size"], "max_overflow": 0, "pool_pre_ping": False}

    def signed_in_lists(actor: Actor, bind=None) -> list[TodoList] | None:
        """The account's lists, or None when the session's account or generation is gone."""
        options = {"bind_arguments": {"bind": bind}} if bind is not None else {}
        account = db.session.execute(
            select(Account).where(Account.id == actor.account_id, Account.session_generation == actor.generation),
            **options,
        ).scalar_one_or_none()
        if account is None:
            return None
        query = select(TodoList).where(TodoList.account_id == account.id).order_by(TodoList.id)
        return db.session.execute(query, **options).scalars().all()

    def page(actor: Actor, list_id: int | None, status: str, after: int, limit: int) -> dict | None:
        session = db.session
        lists = signed_in_lists(actor, replica)
        shown = next((item for item in lists or () if list_id is None or item.id == list_id), None)
        if shown is None:
            return None
        query = _status_filter(select(Todo).where(Todo.list_id == shown.id, Todo.id > after), status)
        rows = session.execute(query.order_by(Todo.id).limit(limit + 1), bind_arguments={"bind": replica})
        rows = rows.scalars().all()
        prev_after = None
        if after:
            back = _status_filter(select(Todo.id).where(Todo.list_id == shown.id, Todo.id <= after), status)
            back = session.execute(back.order_by(Todo.id.desc()).limit(limit + 1), bind_arguments={"bind": replica})
            back = back.scalars().all()
            prev_after = back[-1] if len(back) > limit else 0
        # The page's items as the frontend has them (the reader's JSON decoded): dicts.
        items = [{"id": t.id, "name": t.name, "completed": t.completed} for t in rows[:limit]]
        return {
            "list": {"id": shown.id, "name": shown.name},
            "items": items,
            "next_after": items[-1]["id"] if len(rows) > limit else None,
            "prev_after": prev_after,
            "counts": {"all": shown.total, "active": shown.total - shown.completed, "completed": shown.completed},
            "lists": [{"id": item.id, "name": item.name} for item in lists],
        }

    def add(actor: Actor, list_id: int | None, name: str) -> int | None:
        lists = signed_in_lists(actor)
        target = next((item for item in lists or () if list_id is None or item.id == list_id), None)
        if target is None:
            db.session.rollback()
            return None
        target_id = target.id  # before the commit expires it (no extra query)
        db.session.add(Todo(list_id=target_id, name=name))
        db.session.commit()
        return target_id

    app = make_app(__name__, page, add, config)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=sqlalchemy_url(config["primary"]),
        SQLALCHEMY_BINDS={"replica": {"url": sqlalchemy_url(config["replica"]), **pool}},
        SQLALCHEMY_ENGINE_OPTIONS=pool,
    )
    db.init_app(app)
    with app.app_context():
        replica = db.engines["replica"]
    return app
