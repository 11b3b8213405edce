"""REPLAY_LOG_FORMAT=json: each log line one JSON object a log shipper can parse."""
import io
import json
import logging

from replay.core.logs import JsonFormatter


def test_json_lines_carry_time_level_logger_message_extra_fields_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("replay.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("flush of %s failed", "sess_1", extra={"session": "sess_1", "tries": 3, "obj": object()})
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            logger.exception("job failed")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # a multi-line traceback stays on its one line
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"] == "replay.test.json"
    assert first["message"] == "flush of sess_1 failed" and first["session"] == "sess_1" and first["tries"] == 3
    assert first["obj"].startswith("<object object") and first["time"].endswith("Z")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exc_info"]
