"""Items the CI workflow's kind job writes before it upgrades the chart, and finds after.

- A person's item, through the public API as people write (sign-up form, then an API
  token from POST /api/tokens): after the upgrade it is still theirs, and only theirs.
- Items from before accounts, written straight into the table as the shared-list
  version of the chart (or the original app, which may still be writing) left them:
  rows of todo_list in no list. The upgrade sets migrations.owner, the workflow then
  runs set-password, and the owner must find every one of them, ids included.

  python3 tools/kind-items.py before --url http://127.0.0.1:18080 --state /tmp/kind-items.json
  python3 tools/kind-items.py after --url http://127.0.0.1:18080 --state /tmp/kind-items.json \\
      --owner NAME --owner-password-file /tmp/owner-password

Environment: RELEASE, NAMESPACE (the rows without a list are written by `kubectl exec`
into the writer, with its own settings). Standard library only; the HTTP client is the
chart's helm test's (charts/todo/files/helm-test.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

HELM_TEST = Path(__file__).resolve().parent.parent / "charts" / "todo" / "files" / "helm-test.py"

# Run by the writer's Python in its pod: the database settings are the writer's own.
INSERT_UNOWNED = """
import json, sys
import psycopg2
from todo_writer.settings import WriterSettings
titles = json.load(sys.stdin)
conn = psycopg2.connect(**WriterSettings.from_env().database.connect_kwargs())
with conn, conn.cursor() as cur:
    rows = []
    for title in titles:
        cur.execute("INSERT INTO todo_list (name) VALUES (%s) RETURNING id, list_id", (title,))
        rows.append(cur.fetchone())
print(json.dumps([{"id": id, "title": title, "list": list_id} for (id, list_id), title in zip(rows, titles)]))
"""


def load_helm_test():
    sys.dont_write_bytecode = True  # no __pycache__ in the chart's files/, which helm packages
    spec = importlib.util.spec_from_file_location("helm_test", HELM_TEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helm_test = load_helm_test()


def collection(client, api_root: str, expected: set[int], timeout: float = 60) -> dict[int, str]:
    """id -> title of the token's list, once every id in `expected` shows (a replica may lag)."""
    deadline = time.monotonic() + timeout
    while True:
        status, body, _ = client.call("GET", api_root)
        items = {item["id"]: item["title"] for item in json.loads(body)} if status == 200 else {}
        if expected <= set(items) or time.monotonic() > deadline:
            return items
        time.sleep(1)


def insert_unowned(titles: list[str]) -> list[dict]:
    command = [
        "kubectl",
        "--namespace",
        os.environ["NAMESPACE"],
        "exec",
        "-i",
        f"deploy/{os.environ['RELEASE']}-writer",
        "--",
        "python",
        "-c",
        INSERT_UNOWNED,
    ]
    result = subprocess.run(command, input=json.dumps(titles), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"kubectl exec into the writer failed: {result.stderr}")
    rows = json.loads(result.stdout)
    assert all(row["list"] is None for row in rows), rows
    return rows


def before(args) -> None:
    client = helm_test.Client(args.url)
    person = {"username": f"kind-{uuid.uuid4().hex[:10]}", "password": secrets.token_urlsafe(18)}
    helm_test.sign_up(client, person["username"], person["password"])
    token = helm_test.api_token(client, person["username"], person["password"])
    status, body, _ = client.call("POST", token["api_root"], json_body={"title": "survives the upgrade"})
    assert status == 201, (status, body)
    item = json.loads(body)
    unowned = insert_unowned(["from the shared list", "also from the shared list"])
    state = {"person": person, "item": {"id": item["id"], "title": item["title"]}, "unowned": unowned}
    Path(args.state).write_text(json.dumps(state))
    print(f"{person['username']} wrote item {item['id']}; items {[row['id'] for row in unowned]} belong to no list")


def after(args) -> None:
    state = json.loads(Path(args.state).read_text())
    client = helm_test.Client(args.url)
    person, item = state["person"], state["item"]
    token = helm_test.api_token(client, person["username"], person["password"])
    theirs = collection(client, token["api_root"], {item["id"]})
    assert theirs.get(item["id"]) == item["title"], f"{person['username']}'s item is gone: {theirs}"
    owner_password = Path(args.owner_password_file).read_text().strip()
    token = helm_test.api_token(client, args.owner, owner_password)
    unowned = {row["id"]: row["title"] for row in state["unowned"]}
    adopted = collection(client, token["api_root"], set(unowned))
    missing = {id: title for id, title in unowned.items() if adopted.get(id) != title}
    assert not missing, f"{args.owner} lacks the items from before accounts {missing}; has {adopted}"
    assert item["id"] not in adopted and not set(unowned) & set(theirs), "an item is in someone else's list"
    print(f"{person['username']} still has item {item['id']}; {args.owner} has {sorted(unowned)}, ids kept")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(required=True)
    first = sub.add_parser("before")
    first.set_defaults(run=before)
    second = sub.add_parser("after")
    second.set_defaults(run=after)
    second.add_argument("--owner", required=True)
    second.add_argument("--owner-password-file", required=True)
    for command in (first, second):
        command.add_argument("--url", required=True, help="the frontend, e.g. through kubectl port-forward")
        command.add_argument("--state", required=True, help="JSON file: what `before` wrote, for `after`")
    args = parser.parse_args()
    try:
        args.run(args)
    except AssertionError as exc:
        sys.exit(f"FAILED: {exc}")


if __name__ == "__main__":
    main()
