"""AWS event-stream framing (`application/vnd.amazon.eventstream`, Bedrock's streamed responses) -> event objects.

A frame: total length (4 bytes, big-endian), headers length (4), CRC32 of those 8 bytes (4), headers, payload, CRC32
of everything before it (4). Headers: name length (1), name, value type (1), value (type 7 a string with a 2-byte
length; the other types are skipped by their size). Both checksums are verified: a frame that is cut short, has a
bad checksum or malformed headers makes the whole body undecoded (None), never a guess.

Each frame becomes one object: `{<:event-type>: payload}` for an event (Bedrock's ConverseStream and
InvokeModelWithResponseStream events as boto3 shows them), `{<:exception-type>: payload}` for an exception, and
`{"error": {"code", "message"}}` for an error frame. A recorded body holds the bytes as base64, hex (nock) or latin-1
text.
"""
from __future__ import annotations

import base64
import binascii
import json
import struct
import zlib

MAX_FRAMES = 100_000
# value sizes of the fixed-size header types: bool true/false, byte, short, int, long, timestamp, uuid
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}


def _headers(raw: bytes) -> dict | None:
    out, i = {}, 0
    while i < len(raw):
        n = raw[i]
        name, i = raw[i + 1 : i + 1 + n], i + 1 + n
        if i >= len(raw):
            return None
        kind, i = raw[i], i + 1
        if kind in (6, 7):
            if i + 2 > len(raw):
                return None
            size = struct.unpack(">H", raw[i : i + 2])[0]
            value, i = raw[i + 2 : i + 2 + size], i + 2 + size
            if kind == 7:
                out[name.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        elif kind in _FIXED:
            i += _FIXED[kind]
        else:
            return None
        if i > len(raw):
            return None
    return out


def frames(data: bytes) -> list[tuple[dict, bytes]] | None:
    """(headers, payload) of every frame, or None when any frame is cut short or fails its checksum."""
    out, pos = [], 0
    while pos < len(data) and len(out) < MAX_FRAMES:
        if len(data) - pos < 16:
            return None
        total, hlen, pcrc = struct.unpack(">III", data[pos : pos + 12])
        if zlib.crc32(data[pos : pos + 8]) != pcrc or total < 16 + hlen or pos + total > len(data):
            return None
        end = pos + total
        if zlib.crc32(data[pos : end - 4]) != struct.unpack(">I", data[end - 4 : end])[0]:
            return None
        headers = _headers(data[pos + 12 : pos + 12 + hlen])
        if headers is None:
            return None
        out.append((headers, data[pos + 12 + hlen : end - 4]))
        pos = end
    return out or None


def _payload(raw: bytes):
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return None


def events(data: bytes) -> list[dict] | None:
    """The event objects of an event-stream body (None when it is not one, or a frame is bad)."""
    decoded = frames(data)
    if decoded is None:
        return None
    out = []
    for headers, raw in decoded:
        kind = headers.get(":message-type", "event")
        if kind == "error":
            out.append({"error": {"code": headers.get(":error-code"), "message": headers.get(":error-message")}})
            continue
        name = headers.get(":exception-type" if kind == "exception" else ":event-type")
        payload = _payload(raw)
        if not name or payload is None:
            return None
        out.append({name: payload})
    return out


def body_bytes(text: str) -> bytes | None:
    """The bytes a recorded body holds: latin-1 text starting with a frame's zero length byte, hex or base64. Only a
    body whose first prelude checksum holds is decoded whole (a base64 video is not decoded to find out)."""
    try:
        if text[:1] == "\x00":
            return text.encode("latin-1") if looks_like_eventstream(text[:12].encode("latin-1")) else None
        if text.startswith("0000") and len(text) % 2 == 0:  # hex (nock records binary bodies so)
            return bytes.fromhex(text) if looks_like_eventstream(bytes.fromhex(text[:24])) else None
        if text.startswith("AAA"):  # base64 of a frame: its length's first bytes are zero
            head = base64.b64decode(text[:16], validate=True)
            return base64.b64decode("".join(text.split()), validate=True) if looks_like_eventstream(head) else None
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None
    return None


def text_events(text: str) -> list[dict] | None:
    data = body_bytes(text)
    return events(data) if data else None


def looks_like_eventstream(data: bytes) -> bool:
    """A first frame whose prelude checksum holds: enough to keep such bytes whole (as latin-1 text)."""
    return len(data) >= 12 and zlib.crc32(data[:8]) == struct.unpack(">I", data[8:12])[0]
