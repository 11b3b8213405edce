"""What the server-keyed line endpoints share (POST /ingest/logs, POST /ingest/server): the key, the body.

`Authorization: Bearer <server key>`; the body is newline-separated lines, gzip allowed
(`Content-Encoding: gzip`), capped as sent and once inflated (413 past either).
"""
from __future__ import annotations

import zlib
from typing import Callable

from flask import request

from replay.web.errors import ApiError

READ_CHUNK_BYTES = 64 * 1024


def project_of_request(lookup: Callable[[str], str | None]) -> str:
    """The project whose server key the request carries, or a 401."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <server key> (replay project server-key PROJECT)")
    project = lookup(key.strip())
    if project is None:
        raise ApiError(401, "unauthorized", "the server key is not valid (rotated, or never issued)")
    return project


def read_body(cap: int) -> bytes:
    """The request body as sent, refused past `cap` bytes whether or not a Content-Length announced it."""
    if request.content_length is not None and request.content_length > cap:
        raise ApiError(413, "too_large", f"the body is {request.content_length} bytes; the limit is {cap}")
    chunks, size = [], 0
    while True:
        chunk = request.stream.read(READ_CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            raise ApiError(413, "too_large", f"the body is more than {cap} bytes; the limit is {cap}")
        chunks.append(chunk)


def inflate(body: bytes, cap: int) -> bytes:
    """The body gunzipped when it says so (at most `cap` bytes), else as it came."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip"):
        raise ApiError(415, "unsupported_encoding", f"Content-Encoding {encoding!r}: send gzip or nothing")
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, cap + 1)
    except zlib.error as exc:
        raise ApiError(400, "bad_gzip", f"the body is not valid gzip: {exc}") from None
    if len(out) > cap:
        raise ApiError(413, "too_large", f"the body inflates to more than {cap} bytes; the limit is {cap}")
    if not inflater.eof:
        raise ApiError(400, "bad_gzip", "the gzip body is cut short")
    return out


def numbered_lines(data: bytes) -> tuple[list[int], list[str]]:
    """Non-blank lines and their numbers in the body (as an editor shows them). Bytes that are not UTF-8 become
    replacement characters: one bad byte costs at most its line, never the post."""
    numbers, lines = [], []
    for number, line in enumerate(data.decode("utf-8", "replace").split("\n"), 1):
        if line.strip():
            numbers.append(number)
            lines.append(line)
    return numbers, lines
