"""The exceptions a user can cause, each with a message that names what and where."""

from __future__ import annotations


class MonitorError(Exception):
    """Base class: the CLI prints the message on one line and exits non-zero."""

    exit_code = 1


class ConfigError(MonitorError):
    """feeds.yaml is missing, unreadable or invalid. Holds every problem found."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class FetchError(MonitorError):
    """A feed could not be downloaded (network, HTTP status, size or time limit).

    `kind` says how bad it is for the feed: "transient" (timeouts, 5xx, refused or broken
    connections), "soft" (404, DNS failure, oversized body: bad if it persists), "hard"
    (410 Gone), or "rate-limited" (429, 503 with Retry-After: not the feed's fault).
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        retry_after: str | None = None,
        kind: str = "transient",
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.kind = kind
        super().__init__(message)


class ParseError(MonitorError):
    """A response body is not a feed we can read."""
