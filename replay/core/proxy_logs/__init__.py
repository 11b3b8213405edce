"""nginx's own log lines (access-log JSON of DESIGN's `log_format replay`, error-log lines, syslog frames), parsed."""
