"""Process logging for `replay serve` and `replay worker`: one format with times, and no line per routine job.

LOG_FORMAT "json" (REPLAY_LOG_FORMAT=json) writes one JSON object per line
instead: time, level, logger, message, the process id, the fields a call passed
in `extra=`, and the traceback as `exc_info` when there is one. gunicorn's own
lines take the same form (replay/serve.py hands it gunicorn_config()).
"""
from __future__ import annotations

import json
import logging
import os
import time

# Like gunicorn's own lines, so one log reads as one.
FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
# RQ logs four lines per job at INFO (started, completed, OK, result kept): nobody needs them per flush.
QUIET = {"rq.worker": logging.WARNING, "rq.queue": logging.WARNING}
# What every LogRecord has: anything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; values JSON cannot hold are written as their str()."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, separators=(",", ":"))


def log_format() -> str:
    return os.environ.get("REPLAY_LOG_FORMAT", "text").strip().lower()


def configure(level: int = logging.INFO, fmt: str | None = None) -> None:
    """Our loggers at `level` with times (JSON lines when `fmt`, or REPLAY_LOG_FORMAT, is "json"); RQ's per-job
    chatter only when something is wrong."""
    if (fmt or log_format()) == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level, format=FORMAT, datefmt=DATE_FORMAT)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)


def gunicorn_config() -> dict:
    """gunicorn's logconfig_dict: its error log (boot, worker start and exit) and ours as JSON lines on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
    }
