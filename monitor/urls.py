"""Canonical article URLs: safe schemes only, tracking parameters removed."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

# Exact parameter names (compared case-sensitively, as servers do) and prefixes to drop.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
        "vero_id", "_ga", "_gl", "ocid", "cmpid", "at_medium", "at_campaign", "rss_source",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_")
SAFE_SCHEMES = ("http", "https")
_UNSAFE_CHARACTER = re.compile(r"[\s\x00-\x1f\x7f]")


def safe_url(url: str | None) -> str | None:
    """The URL itself if it is an absolute http(s) URL, else None (javascript:, data:, ...)."""
    checked = _checked(url)
    return checked[0] if checked else None


def _checked(url: str | None) -> tuple[str, SplitResult] | None:
    """The safe URL and its parts, split once for both safe_url and canonical_url."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    if _UNSAFE_CHARACTER.search(url):
        return None
    return url, parts


def _is_tracking(name: str) -> bool:
    return name in TRACKING_PARAMS or name.lower().startswith(TRACKING_PREFIXES)


def canonical_url(url: str | None) -> str | None:
    """A stable form for deduplication: lower-case scheme and host, no default port, no
    fragment, no tracking parameters; the path and the other parameters are kept as they are."""
    checked = _checked(url)
    if checked is None:
        return None
    parts = checked[1]
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return None
    netloc = host if port in (None, 80 if scheme == "http" else 443) else f"{host}:{port}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))
