"""Websocket handshakes negotiate no compression (permessage-deflate).

The snippet gzips its batches itself (binary frames), so the extension would only squeeze what is
already squeezed. Worse, the websocket library inflates a compressed frame whole before the message
size cap sees it: a 64 KB frame of deflated spaces becomes 64 MB in the server, per socket. With the
offer taken out of the handshake, a browser sends plain frames, and a frame that claims compression
anyway is a protocol error (close 1002) that costs nothing to refuse.
"""
from __future__ import annotations

from flask import request


def refuse_compression() -> None:
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
