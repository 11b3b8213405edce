"""The README's nginx configuration is the one the end-to-end test runs nginx with."""
from pathlib import Path

from tests.nginx import REPLAY_LOG_FORMAT

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_the_readme_gives_the_tested_log_format_and_syslog_lines():
    assert REPLAY_LOG_FORMAT in README
    assert "access_log syslog:server=REPLAY_HOST:5514,tag=SERVER_KEY,nohostname replay;" in README
    assert "error_log  syslog:server=REPLAY_HOST:5514,tag=SERVER_KEY,nohostname warn;" in README
