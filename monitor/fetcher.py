"""Downloading feeds with httpx: conditional GET, redirects, a size cap and a total deadline.

The fetcher never parses and never touches storage: it returns status, headers and bytes,
or raises FetchError with a message that says what went wrong.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from monitor.errors import FetchError

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 20.0  # total seconds for connect, headers and body together
    connect_timeout: float = 10.0
    max_bytes: int = 10_000_000
    concurrency: int = 8
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


def make_client(limits: FetchLimits) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=10,
        timeout=httpx.Timeout(limits.timeout, connect=limits.connect_timeout),
        limits=httpx.Limits(
            max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency
        ),
        headers={"User-Agent": limits.user_agent, "Accept": ACCEPT},
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


async def _download(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], max_bytes: int
) -> tuple[httpx.Response, bytes]:
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 304 or response.status_code >= 400:
            return response, b""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(
                f"fetch: body of {declared} bytes exceeds the {_size_label(max_bytes)} limit"
            )
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"fetch: body exceeds the {_size_label(max_bytes)} limit")
            chunks.append(chunk)
        return response, b"".join(chunks)


def _http_error(response: httpx.Response) -> FetchError:
    status = response.status_code
    reason = response.reason_phrase or "error"
    retry_after = response.headers.get("retry-after")
    return FetchError(f"fetch: HTTP {status} {reason}", status=status, retry_after=retry_after)


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    limits: FetchLimits,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET one feed. Raises FetchError for network failures, HTTP errors and exceeded limits."""
    started = time.monotonic()
    headers = _conditional_headers(etag, last_modified)
    try:
        async with asyncio.timeout(limits.timeout):
            response, body = await _download(client, url, headers, limits.max_bytes)
    except TimeoutError:
        raise FetchError(f"fetch: timed out after {limits.timeout:g} s") from None
    except httpx.TooManyRedirects:
        raise FetchError("fetch: too many redirects") from None
    except httpx.TimeoutException:
        raise FetchError(f"fetch: timed out after {limits.timeout:g} s") from None
    except httpx.ConnectError as exc:
        raise FetchError(f"fetch: cannot connect: {exc or type(exc).__name__}") from exc
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(f"fetch: unsupported URL scheme: {exc}") from exc
    except httpx.DecodingError as exc:
        raise FetchError(f"fetch: cannot decode the response body: {exc}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"fetch: {type(exc).__name__}: {exc or 'connection failed'}") from exc
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
