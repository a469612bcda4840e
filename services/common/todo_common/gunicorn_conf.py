"""Gunicorn settings of all three services, loaded as a module:

    gunicorn -c python:todo_common.gunicorn_conf 'todo_writer:create_app()'

Without an app argument it serves ``todo_<TODO_SERVICE>:create_app()`` (the images set
TODO_SERVICE). The defaults below are the only ones on the Python side; the images, the
chart and the local stack override them through the environment variables named here.

gthread workers: requests block on PostgreSQL or on another service, so a few
threads per process keep the cores busy without the memory of many processes.
"""

import os
import shutil
import tempfile

from todo_common.logs import gunicorn_logconfig
from todo_common.settings import Env, threads_per_worker

DEFAULT_PORT = 8080
DEFAULT_METRICS_PORT = 9102
DEFAULT_GRACEFUL_TIMEOUT = 20

_env = Env()
if _env.str("TODO_SERVICE"):
    wsgi_app = f"todo_{_env.str('TODO_SERVICE')}:create_app()"
# All interfaces by default: in a pod, the Service reaches the container from outside.
bind = f"{_env.str('HOST', '0.0.0.0')}:{_env.int('PORT', DEFAULT_PORT, minimum=1, maximum=65535)}"  # noqa: S104
# /metrics has a port of its own, served by the master (when_ready below); 0 turns it off.
metrics_port = _env.int("METRICS_PORT", DEFAULT_METRICS_PORT, minimum=0, maximum=65535)
workers = _env.int("GUNICORN_WORKERS", 2, minimum=1)
# gthread, with requests read whole before a thread takes them (slow clients hold no
# thread): todo_common.gunicorn_worker.
worker_class = "todo_common.gunicorn_worker.BufferingThreadWorker"
# The same number sizes each process's database pool (todo_common.settings).
threads = threads_per_worker(_env)
# Keep-alive connections from the frontend's pool are reused across requests.
keepalive = _env.int("GUNICORN_KEEPALIVE", 75)
timeout = _env.int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env.int("GUNICORN_GRACEFUL_TIMEOUT", DEFAULT_GRACEFUL_TIMEOUT)
# Recycle a worker now and then so a long-lived keep-alive connection cannot pin
# all traffic to one process forever, and slow leaks stay bounded.
max_requests = _env.int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
# The apps log one JSON line per request themselves (todo_common.request_log), with
# tokens in paths redacted; gunicorn's access log would repeat it without redaction.
accesslog = "-" if _env.bool("ACCESS_LOG", False) else None
errorlog = "-"
loglevel = _env.str("LOG_LEVEL", "info").lower()
# gunicorn's own lines (start, workers booting, timeouts) as JSON like the apps'.
logconfig_dict = gunicorn_logconfig(access_log=accesslog is not None)
# Builds no access-log record per request while the access log is off.
logger_class = "todo_common.gunicorn_logger.Logger"
# No runtime control socket: it would live in $HOME, read-only in the container.
control_socket_disable = True
# Heartbeat files in memory, not on a (possibly read-only) root filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()  # noqa: S108

# Each worker process keeps its own metric files here; /metrics adds them up.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="todo-metrics-")
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


def on_starting(server):
    # Files left by an earlier run would add its counts to ours.
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            os.unlink(path)


_metrics_server = None


def when_ready(server):
    """The master serves every worker's metrics, summed, on the metrics port, with the
    service's scrape-time collectors (``metrics_collectors()`` of its package)."""
    global _metrics_server
    if not metrics_port:
        return
    import importlib

    from todo_common import metrics

    app_uri = getattr(server.app, "app_uri", None) or wsgi_app_name()
    package = importlib.import_module(app_uri.split(":", 1)[0])
    collectors = package.metrics_collectors() if hasattr(package, "metrics_collectors") else ()
    host = _env.str("HOST", "0.0.0.0")  # noqa: S104 - scraped from other pods
    try:
        _metrics_server = metrics.serve(metrics_port, host, collectors)
    except OSError as exc:  # the service still serves; the scrape will say it is down
        server.log.error("cannot serve metrics on %s:%d: %s", host, metrics_port, exc)


def post_fork(server, worker):
    # The listening socket came along with the fork; only the master answers on it.
    if _metrics_server is not None:
        _metrics_server.socket.close()


def wsgi_app_name() -> str:
    return globals().get("wsgi_app") or ""


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if directory.startswith(tempfile.gettempdir() + "/todo-metrics-"):
        shutil.rmtree(directory, ignore_errors=True)


# Requests larger than the apps accept (MAX_BODY_BYTES, the same default as theirs)
# are answered without their body being read (413, or 401 when the caller is refused
# first); the connection then cannot be reused, so the answer says "Connection: close"
# instead of announcing a keep-alive it would not keep.
_max_body_bytes = _env.int("MAX_BODY_BYTES", 64 * 1024, minimum=1024)


def pre_request(worker, req):
    worker.log.debug("%s %s", req.method, req.path)
    for name, value in req.headers:
        if name == "CONTENT-LENGTH" and value.isdigit() and int(value) > _max_body_bytes:
            req.must_close = True
