"""The README's nginx configuration is the one the end-to-end test runs nginx with."""
from pathlib import Path

from tests.nginx import REPLAY_LOG_FORMAT

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_the_readme_gives_the_tested_log_format_and_syslog_lines():
    assert REPLAY_LOG_FORMAT in README
    assert "access_log syslog:server=REPLAY_HOST:5514,tag=SERVER_KEY,nohostname replay;" in README
    assert "error_log  syslog:server=REPLAY_HOST:5514,tag=SERVER_KEY,nohostname warn;" in README


def test_the_readme_gives_the_file_logs_and_a_shipper_command_the_cli_takes():
    from replay.cli import parser

    assert "access_log /var/log/nginx/replay-access.log replay;" in README
    assert "error_log  /var/log/nginx/error.log warn;" in README
    commands = [line for line in README.replace("\\\n", " ").splitlines() if "replay logs ship --" in line]
    assert len(commands) == 2  # the shell line and the systemd unit's
    for command in commands:
        args = parser().parse_args(command.split("bin/replay", 1)[1].split())
        assert (args.access_log, args.error_log) == ("/var/log/nginx/replay-access.log", "/var/log/nginx/error.log")
        assert args.url == "https://REPLAY_HOST" and args.state == "/var/lib/replay/log-ship.json"
