"""Webhook signatures: HMAC-SHA256 over "<unix seconds>." + the exact body bytes, checked in constant time with a
replay tolerance."""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Mapping

TIMESTAMP_HEADER = "X-Strata-Timestamp"
SIGNATURE_HEADER = "X-Strata-Signature"
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """"sha256=" + hex HMAC-SHA256(secret, f"{timestamp}.".encode() + body)."""
    mac = hmac.new(_key(secret), f"{int(timestamp)}.".encode() + bytes(body), hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str | bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    """The two headers for a body about to be sent (a fresh timestamp each attempt)."""
    ts = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, ts, body)}


def _header(headers: Mapping, name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # plain dicts are case-sensitive; HTTP headers are not
        value = next((v for k, v in headers.items() if str(k).lower() == name.lower()), None)
    return value if isinstance(value, str) else None


def verify_signature(secret: str | bytes, headers: Mapping, body: bytes, tolerance: float = 300,
                     now: float | None = None) -> bool:
    """True only for a well-formed, correctly signed request whose timestamp is within `tolerance` seconds of now."""
    if not secret or not isinstance(body, (bytes, bytearray)):
        return False
    ts, sig = _header(headers, TIMESTAMP_HEADER), _header(headers, SIGNATURE_HEADER)
    if ts is None or sig is None or not _TIMESTAMP.fullmatch(ts.strip()) or not _SIGNATURE.fullmatch(sig.strip()):
        return False
    now = time.time() if now is None else now
    if abs(now - int(ts)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(ts), bytes(body)), sig.strip())
