"""Decompressing response bodies a chunk at a time, never past a size limit.

A 1 MB gzip body can inflate to 1 GB. Each call here asks zlib for at most the bytes still
allowed (plus one, to detect the overrun), so memory stays within the limit whatever the
compression ratio.
"""

from __future__ import annotations

import zlib

SUPPORTED = ("identity", "gzip", "x-gzip", "deflate")


class BodyTooLarge(Exception):
    pass


class UnsupportedEncoding(ValueError):
    pass


class BoundedDecoder:
    def __init__(self, content_encoding: str, max_bytes: int) -> None:
        encoding = content_encoding.strip().lower() or "identity"
        if encoding not in SUPPORTED:
            raise UnsupportedEncoding(f"unsupported content encoding {encoding!r}")
        self.encoding = encoding
        self.max_bytes = max_bytes
        self.size = 0
        self._zlib = self._decompressor(encoding)
        self._deflate_probe = encoding == "deflate"

    @staticmethod
    def _decompressor(encoding: str) -> zlib._Decompress | None:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompressobj(zlib.MAX_WBITS)
        return None

    def feed(self, chunk: bytes) -> bytes:
        """Decoded bytes for this raw chunk; raises BodyTooLarge past the limit."""
        if self._zlib is None:
            return self._count(chunk)
        if self._deflate_probe:
            self._deflate_probe = False
            if chunk and (chunk[0] & 0x0F) != 8:  # no zlib header: raw deflate (common)
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        parts = []
        data = chunk
        while data or not parts:
            out = self._zlib.decompress(data, self.max_bytes - self.size + 1)
            parts.append(self._count(out))
            data = self._zlib.unconsumed_tail
            if not data:
                break
        return b"".join(parts)

    def flush(self) -> bytes:
        if self._zlib is None:
            return b""
        return self._count(self._zlib.flush(self.max_bytes - self.size + 1))

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise BodyTooLarge(self.size)
        return data
