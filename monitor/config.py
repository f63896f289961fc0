"""feeds.yaml: declared once as typed models, validated whole, every problem reported at once."""

from __future__ import annotations

import codecs
import os
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.errors import ConfigError
from monitor.weeks import zone

DEFAULT_CONFIG = "feeds.yaml"
# libyaml's safe loader when PyYAML was built with it: 1,000 feeds load in 0.03 s, not 0.17 s.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2}
_SIZE_UNITS["gib"] = 1024**3
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_TIME_OF_DAY = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")
_WEEKLY = re.compile(r"^\s*([a-z]+)\s+([01]?\d|2[0-3]):([0-5]\d)\s*$", re.IGNORECASE)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
RECALL_RANGE = (0.5, 0.999)


def parse_duration(value: Any, *, allow_zero: bool = False) -> float:
    """'90s', '15m', '2h', '1d' (or a number of seconds) -> seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(value) if isinstance(value, str) else None
        seconds = float(match.group(1)) * _UNITS[match.group(2)] if match else -1.0
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError(f'expected a duration like "15m", got {_show(value)}')
    return seconds


def parse_size(value: Any) -> int:
    """'10MB', '512KiB' (or a number of bytes) -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE.match(value) if isinstance(value, str) else None
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f'expected a size like "10MB", got {_show(value)}')
    return int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])


def parse_share(value: Any) -> float:
    """'10%' or 0.1 -> 0.1."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            value = float(value.strip()[:-1]) / 100
        except ValueError:
            pass
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    raise ValueError(f'expected a share like "10%", got {_show(value)}')


def parse_time_of_day(value: Any) -> time | None:
    """'03:00' -> 03:00 local time; 'off', null or false (YAML's reading of a bare off) -> None."""
    if value is None or value is False or (isinstance(value, str) and value.strip() == "off"):
        return None
    match = _TIME_OF_DAY.match(value) if isinstance(value, str) else None
    if not match:
        sexagesimal = isinstance(value, int) and not isinstance(value, bool)
        hint = " (YAML reads an unquoted 3:00 as a number: quote it)" if sexagesimal else ""
        raise ValueError(f'expected a time of day like "03:00", or off; got {_show(value)}{hint}')
    return time(int(match.group(1)), int(match.group(2)))


class WeeklyTime(NamedTuple):
    """A day of the week ("mon" .. "sun", as APScheduler's cron trigger names them) and a time."""

    day: str
    at: time


def parse_weekly_time(value: Any) -> WeeklyTime | None:
    """'mon 07:00' (or 'monday 07:00') -> WeeklyTime('mon', 07:00); off, null or false -> None."""
    if value is None or value is False or (isinstance(value, str) and value.strip() == "off"):
        return None
    match = _WEEKLY.match(value) if isinstance(value, str) else None
    day = match.group(1).lower() if match else ""
    if not match or not any(name == day or name[:3] == day for name in _WEEKDAYS):
        raise ValueError(
            f'expected a day and time of day like "mon 07:00", or off; got {_show(value)}'
        )
    return WeeklyTime(day[:3], time(int(match.group(2)), int(match.group(3))))


def parse_timezone(value: Any) -> str:
    """An IANA time zone name such as "Asia/Seoul" or "UTC"."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f'expected a time zone like "Asia/Seoul" or "UTC", got {_show(value)}')
    zone(value.strip())
    return value.strip()


def parse_recall(value: Any) -> float:
    """A target recall between 0.5 and 0.999."""
    low, high = RECALL_RANGE
    if isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high:
        return float(value)
    raise ValueError(f"expected a number from {low} to {high}, got {_show(value)}")


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


Duration = Annotated[float, BeforeValidator(parse_duration)]
Spacing = Annotated[float, BeforeValidator(lambda v: parse_duration(v, allow_zero=True))]
Size = Annotated[int, BeforeValidator(parse_size)]
Share = Annotated[float, BeforeValidator(parse_share)]
TimeOfDay = Annotated[time | None, BeforeValidator(parse_time_of_day)]
Recall = Annotated[float, BeforeValidator(parse_recall)]
Weekly = Annotated[WeeklyTime | None, BeforeValidator(parse_weekly_time)]
TimeZone = Annotated[str, BeforeValidator(parse_timezone)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Settings(_Strict):
    database: str = "nk-monitor.db"
    model_dir: str = "models"
    interval: Duration = 1800.0
    jitter: Share = 0.1
    tick: Duration = 60.0
    timeout: Duration = 20.0
    connect_timeout: Duration = 10.0
    max_body_size: Size = 10_000_000
    concurrency: int = Field(default=32, ge=1, le=256)
    per_host: int = Field(default=2, ge=1, le=16)
    host_spacing: Spacing = 1.0
    parse_workers: int = Field(default=2, ge=1, le=32)
    parse_cpu_budget: Duration = 10.0
    pause_after: float = Field(default=3.0, gt=0)
    user_agent: str = "nk-monitor/0.1 (RSS reader)"
    retrain: TimeOfDay = time(3, 0)
    target_recall: Recall = 0.95
    story_window: Duration = 3 * 86400.0  # near-duplicates this close in time are one story
    story_similarity: float = Field(default=0.5, gt=0, le=1)
    timezone: TimeZone = "UTC"  # of the digest's ISO weeks and days, and of digest_at
    digest_at: Weekly = WeeklyTime("mon", time(7, 0))
    digest_dir: str = "digests"

    @field_validator("interval", "tick")
    @classmethod
    def _at_least_a_minute(cls, value: float) -> float:
        if value < 60:
            raise ValueError(f"must be at least 1m, got {value:g}s")
        return value

    @field_validator("user_agent")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.strip() or not value.isprintable():
            raise ValueError("must be a non-empty printable string")
        return value


class Feed(_Strict):
    name: str = Field(min_length=1, max_length=200)
    url: str
    language: str | None = None
    tags: tuple[str, ...] = ()
    interval: Duration | None = None
    enabled: bool = True
    adaptive: bool = False
    min_interval: Duration | None = None
    max_interval: Duration | None = None
    ignore_validators: bool = False
    encoding: str | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f'unknown encoding "{value}" (try euc-kr, gb18030, shift_jis)'
            ) from None
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/?#]+[^\s]*$", value):
            raise ValueError(f'expected an http:// or https:// URL, got "{value}"')
        return value

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str | None) -> str | None:
        if value is not None and not _LANGUAGE.match(value):
            raise ValueError(f'expected a language code like "en" or "ko", got "{value}"')
        return value

    @field_validator("interval", "min_interval", "max_interval")
    @classmethod
    def _interval_floor(cls, value: float | None) -> float | None:
        if value is not None and value < 60:
            raise ValueError(f"must be at least 1m, got {value:g}s")
        return value

    @model_validator(mode="after")
    def _bounds_in_order(self) -> Feed:
        if self.min_interval and self.max_interval and self.min_interval > self.max_interval:
            raise ValueError("min_interval must not be longer than max_interval")
        return self


def parse_score(value: Any) -> float:
    """A score between 0 and 1."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    raise ValueError(f"expected a score from 0 to 1, got {_show(value)}")


def parse_command(value: Any) -> Any:
    """A command is a list of arguments, run without a shell."""
    if isinstance(value, str):
        raise ValueError(
            f'expected a list like ["/usr/local/bin/notify", "--urgent"] (no shell), got "{value}"'
        )
    return value


def _header_safe(value: str) -> str:
    """Text that goes into mail headers or the SMTP dialogue: one printable line."""
    if not value.strip() or not value.isprintable():
        raise ValueError("must be a non-empty printable string on one line")
    return value


Score = Annotated[float, BeforeValidator(parse_score)]
Command = Annotated[tuple[str, ...], BeforeValidator(parse_command), Field(min_length=1)]
HeaderText = Annotated[str, AfterValidator(_header_safe)]


class Smtp(_Strict):
    host: HeaderText
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: HeaderText | None = None
    password_env: str | None = None
    sender: HeaderText = Field(alias="from")
    to: tuple[HeaderText, ...] = Field(min_length=1)
    password: Any = Field(default=None, exclude=True, repr=False)

    @field_validator("password")
    @classmethod
    def _no_password_in_file(cls, value: Any) -> None:
        raise ValueError(
            "never put the password in feeds.yaml: set password_env to the name of an"
            " environment variable that holds it"
        )

    @field_validator("password_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", value):
            raise ValueError(f'expected an environment variable name, got "{value}"')
        return value

    @model_validator(mode="after")
    def _password_for_login(self) -> Smtp:
        if self.username and not self.password_env:
            raise ValueError("username is set, so password_env is required")
        return self


class Alerts(_Strict):
    min_score: Score = 0.95
    command: Command | None = None
    smtp: Smtp | None = None
    retry: Duration = 900.0
    max_attempts: int = Field(default=5, ge=1, le=50)
    timeout: Duration = 30.0

    @model_validator(mode="after")
    def _some_channel(self) -> Alerts:
        if self.command is None and self.smtp is None:
            raise ValueError("needs a channel: command:, smtp: or both")
        return self

    def channel_names(self) -> list[str]:
        return [name for name in ("command", "smtp") if getattr(self, name) is not None]


class Config(_Strict):
    settings: Settings = Settings()
    feeds: tuple[Feed, ...] = ()
    alerts: Alerts | None = None
    path: Path = Path(DEFAULT_CONFIG)

    @property
    def base_dir(self) -> Path:
        return self.path.resolve().parent

    def database_path(self) -> Path:
        return self.base_dir / self.settings.database

    def model_dir(self) -> Path:
        return self.base_dir / self.settings.model_dir

    def digest_dir(self) -> Path:
        return self.base_dir / self.settings.digest_dir

    def feed_interval(self, feed: Feed) -> float:
        return feed.interval or self.settings.interval


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "required"
    return f"{_location(tuple(error['loc']))}: {message}"


def _duplicate_names(data: dict[str, Any]) -> list[str]:
    seen: dict[str, int] = {}
    problems = []
    for index, feed in enumerate(data.get("feeds") or []):
        name = feed.get("name") if isinstance(feed, dict) else None
        if isinstance(name, str):
            if name in seen:
                problems.append(
                    f'feeds[{index}].name: "{name}" is already used by feeds[{seen[name]}]'
                )
            seen.setdefault(name, index)
    return problems


def parse_config(data: Any, path: Path) -> Config:
    """Validate already-loaded YAML data; raises ConfigError listing every problem."""
    label = str(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{label}: expected a mapping with settings: and feeds:"])
    problems: list[str] = []
    config = None
    try:
        config = Config.model_validate({**data, "path": path})
    except ValidationError as exc:
        problems = [f"{label}: {_problem(err)}" for err in exc.errors()]
    if "path" in data:
        problems.insert(0, f"{label}: path: unknown key")
    problems += [f"{label}: {p}" for p in _duplicate_names(data)]
    if problems or config is None:
        raise ConfigError(problems)
    return config


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file (set --config or MONITOR_CONFIG)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from exc
    try:
        data = yaml.load(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        pass  # read again with the pure loader, whose messages point better
    else:
        return parse_config(data, path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"{path}:{where}: invalid YAML: {reason}"]) from exc
    return parse_config(data, path)


def config_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("MONITOR_CONFIG") or DEFAULT_CONFIG)
