"""Process logging for `replay serve` and `replay worker`: one format with times, and no line per routine job."""
from __future__ import annotations

import logging

# Like gunicorn's own lines, so one log reads as one.
FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
# RQ logs four lines per job at INFO (started, completed, OK, result kept): nobody needs them per flush.
QUIET = {"rq.worker": logging.WARNING, "rq.queue": logging.WARNING}


def configure(level: int = logging.INFO) -> None:
    """Our loggers at `level` with times; RQ's per-job chatter only when something is wrong."""
    logging.basicConfig(level=level, format=FORMAT, datefmt=DATE_FORMAT)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
