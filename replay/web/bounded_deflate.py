"""permessage-deflate with a cap on what one message may inflate to, and nothing compressed on the way out.

Browsers offer the extension on every websocket, and it is worth taking: it compresses the snippet's
text frames with context kept across messages, off the page's main thread. But wsproto inflates a
compressed frame whole, and simple-websocket checks `max_message_size` only afterwards: a 64 KB frame
of deflated spaces became 64 MB in the server before being refused. Here a message inflates at most
to the cap (plus one byte, to know it went over), and a frame that would go further closes the socket
with 1009, as an oversized plain frame does.

Our own messages (ready, acks, errors) are a few dozen bytes: they go uncompressed (RFC 7692 lets
either side send uncompressed messages), so no socket holds a compressor (about 256 KB of zlib state).

simple-websocket names the extension it accepts as a module global; `install` swaps ours in.
"""
from __future__ import annotations

import zlib

import simple_websocket.ws
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason


class BoundedDeflate(PerMessageDeflate):
    # Set by install() from the settings: the largest message, once inflated, in bytes.
    max_message_bytes = 1024 * 1024

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._message_bytes = 0

    def frame_inbound_payload_data(self, proto, data: bytes) -> bytes | CloseReason:
        if not self._inbound_compressed or not self._inbound_is_compressible:
            return data
        room = self.max_message_bytes - self._message_bytes + 1
        try:
            out = self._decompressor.decompress(bytes(data), max(room, 1))
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        self._message_bytes += len(out)
        if self._message_bytes > self.max_message_bytes or self._decompressor.unconsumed_tail:
            return CloseReason.MESSAGE_TOO_BIG
        return out

    def frame_inbound_complete(self, proto, fin: bool) -> bytes | CloseReason | None:
        if fin:
            self._message_bytes = 0
        return super().frame_inbound_complete(proto, fin)

    def frame_outbound(self, proto, opcode, rsv, data: bytes, fin: bool):
        return rsv, data


def install(max_message_bytes: int) -> None:
    BoundedDeflate.max_message_bytes = max_message_bytes
    simple_websocket.ws.PerMessageDeflate = BoundedDeflate
