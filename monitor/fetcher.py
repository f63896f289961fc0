"""Downloading feeds with httpx: conditional GET, redirects, a size cap and a total deadline.

The fetcher never parses and never touches storage: it returns status, headers and bytes,
or raises FetchError with a message that says what went wrong and a kind that says how bad
it is (see monitor.schedule for what each kind costs the feed).
"""

from __future__ import annotations

import asyncio
import socket
import time
import zlib
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from monitor.errors import FetchError
from monitor.inflate import BodyTooLarge, BoundedDecoder, UnsupportedEncoding
from monitor.transport import HostPools

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
# Only what BoundedDecoder can inflate incrementally: never let httpx inflate whole chunks.
ACCEPT_ENCODING = "gzip, deflate"


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 20.0  # total seconds for connect, headers and body together
    connect_timeout: float = 10.0
    max_bytes: int = 10_000_000  # decompressed
    concurrency: int = 32
    user_agent: str = "nk-monitor/0.1 (RSS reader)"


@dataclass(frozen=True)
class FetchResult:
    status: int
    url: str  # after redirects
    headers: dict[str, str]
    body: bytes
    elapsed_ms: int
    permanent_redirect: str | None = None  # the new URL when every hop was 301/308

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class HostTurns(Protocol):
    """Spacing between requests to one host (monitor.politeness.HostGate): a turn is taken
    before a request's headers are written and handed back once they have been."""

    async def wait_turn(self, host: str) -> None: ...

    def turn_done(self, host: str) -> None: ...


_HEADERS = ("http11.send_request_headers", "http2.send_request_headers")
_STARTED = tuple(f"{name}.started" for name in _HEADERS)
_ENDED = tuple(f"{name}.{end}" for name in _HEADERS for end in ("complete", "failed"))


class _TurnTrace:
    """An httpcore trace callback taking a host turn as each request's headers (redirect hops
    included) are about to be written, after connecting, and handing it back once written:
    the spacing is measured on the wire. `release()` hands back a turn a cancelled request
    still holds."""

    def __init__(self, turns: HostTurns) -> None:
        self.turns = turns
        self.held: list[str] = []

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event in _STARTED:
            host = info["request"].url.host.decode("ascii", "replace")
            await self.turns.wait_turn(host)
            self.held.append(host)
        elif event in _ENDED and self.held:
            self.turns.turn_done(self.held.pop())

    def release(self) -> None:
        while self.held:
            self.turns.turn_done(self.held.pop())


def make_client(limits: FetchLimits, per_host: int = 2) -> httpx.AsyncClient:
    """The client for every feed: a pool of at most `per_host` connections for each host."""
    pools = HostPools(connections_per_host=per_host, idle_s=max(30.0, limits.timeout + 10))
    return httpx.AsyncClient(
        transport=pools,
        follow_redirects=True,
        max_redirects=10,
        timeout=httpx.Timeout(limits.timeout, connect=limits.connect_timeout),
        headers={
            "User-Agent": limits.user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        trust_env=False,  # no proxy or netrc surprises: requests go only where feeds.yaml says
    )


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _size_label(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} kB"


def _permanent_redirect(response: httpx.Response) -> str | None:
    history = response.history
    if history and all(r.status_code in (301, 308) for r in history):
        return str(response.url)
    return None


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body, inflated incrementally and refused as soon as it passes max_bytes."""
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "")
    # Compare a declared length with the cap only when it is the decoded length.
    if declared.isdigit() and int(declared) > max_bytes and not encoding.strip():
        raise FetchError(
            f"fetch: body of {declared} bytes exceeds the {_size_label(max_bytes)} limit",
            kind="soft",
        )
    try:
        decoder = BoundedDecoder(encoding, max_bytes)
        chunks = [decoder.feed(raw) async for raw in response.aiter_raw()]
        chunks.append(decoder.flush())
    except BodyTooLarge:
        raise FetchError(
            f"fetch: body exceeds the {_size_label(max_bytes)} limit", kind="soft"
        ) from None
    except UnsupportedEncoding as exc:
        raise FetchError(f"fetch: {exc}", kind="soft") from None
    except zlib.error as exc:  # a corrupt compressed body
        raise FetchError(f"fetch: corrupt {encoding} body: {exc}", kind="soft") from exc
    return b"".join(chunks)


async def _download(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    max_bytes: int,
    turns: HostTurns | None,
) -> tuple[httpx.Response, bytes]:
    trace = _TurnTrace(turns) if turns else None
    extensions = {"trace": trace} if trace else None
    try:
        async with client.stream("GET", url, headers=headers, extensions=extensions) as response:
            if response.status_code == 304 or response.status_code >= 400:
                return response, b""
            return response, await _read_body(response, max_bytes)
    finally:
        if trace:
            trace.release()


def _status_kind(status: int, retry_after: str | None) -> str:
    if status == 410:
        return "hard"
    if status == 429 or (status == 503 and retry_after):
        return "rate-limited"
    if status >= 500 or status == 408:
        return "transient"
    return "soft"  # 404, 401, 403 and other client errors: counted, paused if they persist


def _http_error(response: httpx.Response) -> FetchError:
    status = response.status_code
    reason = response.reason_phrase or "error"
    retry_after = response.headers.get("retry-after")
    return FetchError(
        f"fetch: HTTP {status} {reason}",
        status=status,
        retry_after=retry_after,
        kind=_status_kind(status, retry_after),
    )


def _is_dns_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, socket.gaierror):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    text = str(exc).lower()
    return "name or service not known" in text or "name resolution" in text


def _network_error(exc: httpx.HTTPError, limits: FetchLimits) -> FetchError:
    if isinstance(exc, httpx.TooManyRedirects):
        return FetchError("fetch: too many redirects", kind="soft")
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(f"fetch: timed out after {limits.timeout:g} s", kind="transient")
    if isinstance(exc, httpx.ConnectError) and _is_dns_failure(exc):
        return FetchError(f"fetch: DNS lookup failed: {exc}", kind="soft")
    if isinstance(exc, httpx.ConnectError):
        return FetchError(f"fetch: cannot connect: {exc or 'connection refused'}", kind="transient")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchError(f"fetch: unsupported URL scheme: {exc}", kind="hard")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        reason = str(exc) or "connection closed by the server"
        return FetchError(f"fetch: connection broken: {reason}", kind="transient")
    return FetchError(f"fetch: {type(exc).__name__}: {exc or 'request failed'}", kind="transient")


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    limits: FetchLimits,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    turns: HostTurns | None = None,
) -> FetchResult:
    """GET one feed. Raises FetchError for network failures, HTTP errors and exceeded limits.

    The whole exchange (connect, headers, body) shares one deadline: httpx's own timeouts
    apply per read, so a server trickling a byte a second would never trip them.
    `turns` spaces the requests to each host (see HostTurns), redirect hops included.
    """
    started = time.monotonic()
    headers = _conditional_headers(etag, last_modified)
    try:
        async with asyncio.timeout(limits.timeout):
            response, body = await _download(client, url, headers, limits.max_bytes, turns)
    except TimeoutError:
        raise FetchError(f"fetch: timed out after {limits.timeout:g} s", kind="transient") from None
    except httpx.HTTPError as exc:
        raise _network_error(exc, limits) from exc
    if response.status_code >= 400:
        raise _http_error(response)
    return FetchResult(
        status=response.status_code,
        url=str(response.url),
        headers={k.lower(): v for k, v in response.headers.items()},
        body=body,
        elapsed_ms=int((time.monotonic() - started) * 1000),
        permanent_redirect=_permanent_redirect(response),
    )
