"""The original app as shipped, the one issue 12 measures the stack against: one Flask
process per gunicorn worker, Flask-SQLAlchemy with its default pool (5 connections
plus up to 10 that are closed again after use, so a worker's 8 threads open and close
connections under load) and ``pool_pre_ping`` (one more round trip each time a
connection is taken from the pool), reading and writing the primary.

Its page is the original's markup (``templates/original.html``: per item the name, a
"Completed" / "Not Complete" label and Update / Delete *links*, a CDN stylesheet), no
session, no CSRF, no list switcher, no counts; its add is a form POST answered with a
redirect (Flask's 302) to the list. The original had one shared list; here it shows
the bench person's list (``REF_LIST_ID``) so that both sides show the same rows. It
showed every row; here the first ``PAGE_SIZE`` (250), the same page the stack shows.

Settings: REF_PRIMARY_DSN (libpq string), REF_LIST_ID, PAGE_SIZE.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, redirect, render_template, request, url_for
from flask_sqlalchemy import SQLAlchemy

from . import sqlalchemy_url

db = SQLAlchemy()


class Todo(db.Model):
    """The original's model, on the table it created (plus the list it now belongs to)."""

    __tablename__ = "todo_list"
    id = db.Column(db.BigInteger, primary_key=True)
    name = db.Column(db.String(100), nullable=False)
    completed = db.Column(db.Boolean, nullable=False, default=False)
    list_id = db.Column(db.BigInteger)


def create_app() -> Flask:
    app = Flask(__name__, template_folder=str(Path(__file__).with_name("templates")))
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(os.environ["REF_PRIMARY_DSN"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    list_id = int(os.environ["REF_LIST_ID"])
    page_size = int(os.environ.get("PAGE_SIZE", "250"))
    db.init_app(app)

    def the_list():
        return Todo.query.filter_by(list_id=list_id)

    @app.route("/")
    def index():
        todo_list = the_list().order_by(Todo.id).limit(page_size).all()
        return render_template("original.html", todo_list=todo_list)

    @app.route("/add", methods=["POST"])
    def add():
        db.session.add(Todo(name=request.form.get("name"), completed=False, list_id=list_id))
        db.session.commit()
        return redirect(url_for("index"))

    # The original changed items with GET links; the benchmark never follows them.
    @app.route("/update/<int:todo_id>")
    def update(todo_id: int):
        todo = the_list().filter_by(id=todo_id).first_or_404()
        todo.completed = not todo.completed
        db.session.commit()
        return redirect(url_for("index"))

    @app.route("/delete/<int:todo_id>")
    def delete(todo_id: int):
        todo = the_list().filter_by(id=todo_id).first_or_404()
        db.session.delete(todo)
        db.session.commit()
        return redirect(url_for("index"))

    @app.route("/hello")
    def hello():
        return "Hello, World!"

    return app
