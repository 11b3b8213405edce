"""The floor for bench/ingest.py: a minimal flask-sock loop that only appends each batch to Redis and acks it.

Served as `replay serve` serves (gunicorn, one gevent worker, gevent-patched first) against the same kind
of Redis (the embedded default's redis-server, `appendfsync always`): one RPUSH of the message as it came,
then the ack. No validation, rate limits, dedup, schedule or metrics.
Run by bench/ingest.py --minimal; by hand: `python bench/minimal_ingest.py PORT REDIS_URL`.
"""
from __future__ import annotations

import sys


def main() -> None:
    from gevent import monkey

    monkey.patch_all()
    import json

    from flask import Flask
    from flask_sock import Sock
    from gunicorn.app.base import BaseApplication
    from redis import Redis

    port, redis_url = int(sys.argv[1]), sys.argv[2]
    app = Flask(__name__)
    sock = Sock(app)
    redis = Redis.from_url(redis_url)

    @sock.route("/ingest/ws")
    def ingest(ws):
        session = None
        while True:
            data = ws.receive()
            msg = json.loads(data)
            if msg.get("type") == "hello":
                session = msg["session"]
                ws.send('{"type":"ready","acked":0}')
                continue
            redis.rpush(f"minimal:buf:{session}", data)
            ws.send(json.dumps({"type": "ack", "seq": msg["seq"], "acked": msg["seq"]}, separators=(",", ":")))

    class Server(BaseApplication):
        def load_config(self):
            for name, value in {"bind": f"127.0.0.1:{port}", "workers": 1, "worker_class": "gevent",
                                "worker_connections": 10000, "accesslog": None, "errorlog": "-",
                                "control_socket_disable": True, "graceful_timeout": 1}.items():
                self.cfg.set(name, value)

        def load(self):
            return app

    Server().run()


if __name__ == "__main__":
    main()
