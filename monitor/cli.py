"""The `monitor` command: thin click wrappers over the library functions."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click

import storage
from classifiers.errors import ModelError
from monitor.config import Config, Settings, config_path, load_config
from monitor.errors import ConfigError, MonitorError

FORMATS = click.Choice(["table", "csv", "json"])


@dataclass
class Context:
    config_arg: str | None
    db_arg: str | None
    _config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(config_path(self.config_arg))
        return self._config

    @property
    def db_path(self) -> Path:
        if self.db_arg:
            return Path(self.db_arg)
        return self.config.database_path()

    @property
    def timezone(self) -> str:
        """The `timezone:` setting; the default (UTC) when --db is given without a feeds.yaml."""
        if self.db_arg and not self.config_arg and not config_path(None).exists():
            return Settings().timezone
        return self.config.settings.timezone

    def open_db(self) -> Any:
        path = self.db_path
        if not path.exists():
            raise click.ClickException(f"{path}: no database yet (run `monitor run --once` first)")
        return storage.open_db(path)


pass_ctx = click.make_pass_decorator(Context)
USER_ERRORS = (
    MonitorError,
    storage.StorageError,
    storage.ReviewError,
    storage.FeedNotFound,
    ModelError,
)


class ConfigProblems(click.ClickException):
    """Every problem in feeds.yaml, one `Error:` line each, exit code 2."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    def show(self, file: Any = None) -> None:
        for problem in self.problems:
            click.echo(f"Error: {problem}", err=True)


class MonitorGroup(click.Group):
    """Turns the errors a user can cause into one clear line and an exit code, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise ConfigProblems(exc.problems) from None
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from None


def _setup_logging(verbose: int) -> None:
    level = logging.DEBUG if verbose > 1 else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose < 2 else logging.DEBUG)


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_arg",
    envvar="MONITOR_CONFIG",
    metavar="PATH",
    help="feeds.yaml to use (env MONITOR_CONFIG; default ./feeds.yaml).",
)
@click.option(
    "--db",
    "db_arg",
    envvar="MONITOR_DB",
    metavar="PATH",
    help="SQLite database (env MONITOR_DB; default: `database:` in feeds.yaml).",
)
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
@click.version_option(package_name="nk-monitor")
@click.pass_context
def cli(ctx: click.Context, config_arg: str | None, db_arg: str | None, verbose: int) -> None:
    """Monitor news feeds for stories about North Korean defectors, forced repatriation
    and border enforcement.

    \b
    Example:
      monitor run --once && monitor flagged
    """
    _setup_logging(verbose)
    ctx.obj = Context(config_arg, db_arg)


@cli.command()
@click.option("--once", is_flag=True, help="Poll every enabled feed once, then exit.")
@pass_ctx
def run(ctx: Context, once: bool) -> None:
    """Poll the feeds in feeds.yaml: forever as a daemon, or once.

    \b
    Examples:
      monitor run            # until Ctrl-C or SIGTERM
      monitor run --once     # one cycle, exit 0 even if some feeds fail
    """
    config, db_path = ctx.config, ctx.db_path
    if not once:
        from monitor.daemon import run_daemon

        run_daemon(config, db_path)
        return
    from monitor.runner import run_once

    started = time.monotonic()
    outcomes = run_once(config, db_path)
    failed = sum(1 for o in outcomes if not o.ok)
    click.echo(
        f"polled {len(outcomes)} feeds in {time.monotonic() - started:.1f} s:"
        f" {sum(o.new for o in outcomes)} new articles,"
        f" {sum(o.flagged for o in outcomes)} flagged, {failed} feeds failed",
        err=True,
    )


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "json-full"]),
    default="table",
    show_default=True,
    help="json: the list of feeds; json-full: an object with the feeds, the summary of the last"
    " 7 days and the missed-stories estimate.",
)
@pass_ctx
def status(ctx: Context, fmt: str) -> None:
    """Per-feed health: state, last success, last error, failures, next poll, articles.

    Under the table: the last 7 days' stories (flagged or marked relevant) per label per day
    as sparklines, with the most active outlets (days in the `timezone:` setting); and, once
    `monitor audit` samples have been reviewed, the estimate of relevant stories a week the
    classifier misses.

    \b
    Examples:
      monitor status
      monitor status --format json-full
    """
    from datetime import timedelta

    from monitor.audit import current_estimate, format_estimate, missed_estimates
    from monitor.normalise import iso
    from monitor.pipeline import utc_now
    from monitor.report import format_status
    from monitor.summary import story_summary
    from monitor.weeks import last_days, zone

    timezone = ctx.timezone
    db = ctx.open_db()
    now = utc_now()
    estimate = current_estimate(missed_estimates(db))
    footer = format_estimate(estimate)  # says so when there is no audit yet
    feeds = storage.feed_health(db, iso(now - timedelta(days=7)))
    summary = story_summary(db, last_days(now, zone(timezone)), timezone)
    missed = estimate.as_dict() if estimate else None
    click.echo(format_status(feeds, fmt, footer, summary=summary, missed=missed))


@cli.group()
def feeds() -> None:
    """Pause and resume feeds (see `monitor status` for their state).

    \b
    Example:
      monitor feeds resume "Daily NK (English)"
    """


@feeds.command()
@click.argument("name")
@pass_ctx
def resume(ctx: Context, name: str) -> None:
    """Poll a paused feed again, from the next tick, with its failure count cleared.

    \b
    Example:
      monitor feeds resume "Daily NK (English)"
    """
    db = ctx.open_db()
    storage.set_paused(db, name, None)
    click.echo(f"{name}: resumed", err=True)


@feeds.command()
@click.argument("name")
@click.option("--reason", default="paused by hand", show_default=True)
@pass_ctx
def pause(ctx: Context, name: str, reason: str) -> None:
    """Stop polling a feed (it stays in status with the reason) until `monitor feeds resume`.

    \b
    Example:
      monitor feeds pause "Slow Outlet" --reason "asked us to poll less"
    """
    db = ctx.open_db()
    storage.set_paused(db, name, reason)
    click.echo(f"{name}: paused ({reason})", err=True)


@cli.command()
@click.option("--format", "fmt", type=FORMATS, default="table")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@pass_ctx
def flagged(ctx: Context, fmt: str, limit: int | None) -> None:
    """Flagged stories not yet reviewed, highest score first, with the terms that drove
    their labels (why: the strongest per label in the table, all of them in CSV and JSON).

    \b
    Example:
      monitor flagged --format csv > queue.csv
    """
    from monitor.report import format_flagged

    db = ctx.open_db()
    click.echo(format_flagged(storage.story_queue(db, limit=limit), fmt))


@cli.command()
@click.option(
    "--status",
    type=click.Choice(storage.STATUSES),
    help="unreviewed (the default: waiting for a verdict, or changed since), relevant,"
    " not-relevant, escalated or all.",
)
@click.option("--all", "include_reviewed", is_flag=True, help="Same as --status all.")
@click.option(
    "--label",
    "labels",
    multiple=True,
    type=click.Choice(storage.SCORED_LABELS),
    help="Only stories with this label (repeat for any of several).",
)
@click.option("--feed", metavar="NAME", help="Only stories this feed carried.")
@click.option("--language", metavar="CODE", help="Only stories with an article in it (ko, zh…).")
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), help="Only stories first seen on or after."
)
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), help="Only stories first seen on or before."
)
@click.option(
    "--order",
    type=click.Choice(storage.ORDERS),
    default="score",
    show_default=True,
    help="score: highest first; date: newest first; uncertain: flagged and unflagged stories"
    " nearest the flag threshold first (where the model most needs a verdict).",
)
@click.option("--audit", is_flag=True, help="Review the unflagged stories `monitor audit` drew.")
@pass_ctx
def review(
    ctx: Context,
    status: str | None,
    include_reviewed: bool,
    labels: tuple[str, ...],
    feed: str | None,
    language: str | None,
    since: datetime | None,
    until: datetime | None,
    order: str,
    audit: bool,
) -> None:
    """Review stories in a keyboard-driven terminal UI; a verdict covers every article of a
    story.

    \b
    Keys: j/k move, Enter detail, r relevant, n not relevant, ! escalate,
    1/2/3 toggle a label, e note, u undo, o open link, / search, s status, ? help, q quit.
    Examples:
      monitor review
      monitor review --order uncertain    # the verdicts that teach the model most
      monitor review --status escalated --label repatriation --since 2026-11-01
      monitor review --audit              # the random sample of unflagged stories
    """
    from monitor.tui import run_review

    if include_reviewed and status not in (None, "all"):
        raise click.UsageError("--all is short for --status all: give one of them")
    db = ctx.open_db()
    try:
        if feed is not None and storage.get_feed(db, feed) is None:
            raise click.ClickException(f"no feed named {feed!r} (see `monitor status`)")
    finally:
        db.close()
    filters = storage.StoryFilters(
        status=status or ("all" if include_reviewed else "unreviewed"),
        labels=labels,
        feed=feed,
        language=language.lower() if language else None,
        since=since.date() if since else None,
        until=until.date() if until else None,
        order=order,
        audit=audit,
    )
    run_review(ctx.db_path, filters=filters)


@cli.command()
@click.argument("article_id", metavar="ID", type=int)
@click.argument("verdict", type=click.Choice(storage.VERDICTS))
@click.option("--note", help="A note for colleagues, kept with the verdict.")
@click.option(
    "--labels",
    help="Comma-separated labels (defectors,repatriation,border); default: the model's.",
)
@pass_ctx
def label(
    ctx: Context, article_id: int, verdict: str, note: str | None, labels: str | None
) -> None:
    """Record a verdict on one article.

    \b
    Example:
      monitor label 42 relevant --note "13 detained in Yunnan, moved to Dandong"
    """
    from monitor.normalise import iso
    from monitor.pipeline import utc_now

    chosen = _parse_labels(labels) if labels is not None else None
    db = ctx.open_db()
    storage.add_review(db, article_id, verdict, iso(utc_now()), labels=chosen, note=note)
    click.echo(f"article {article_id}: {verdict}", err=True)


def _parse_labels(text: str) -> list[str]:
    from classifiers import LABELS

    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [c for c in chosen if c not in LABELS]
    if unknown:
        raise click.BadParameter(
            f"unknown label {unknown[0]!r}; expected some of {', '.join(LABELS)}",
            param_hint="--labels",
        )
    return chosen


@cli.command()
@click.option(
    "--week",
    help="ISO week such as 2026-W48, in the `timezone:` setting (default: the last complete week).",
)
@click.option(
    "--status",
    "chosen",
    type=click.Choice(storage.DIGEST_STATUSES),
    default="all",
    show_default=True,
    help="relevant: stories marked relevant or escalated; unreviewed: flagged stories without a"
    " verdict; all: stories flagged by the model or marked relevant or escalated, without those"
    " marked not relevant (see --include-rejected).",
)
@click.option(
    "--include-rejected",
    "--all",
    "include_rejected",
    is_flag=True,
    help="With --status all: also the flagged stories marked not relevant.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "markdown"]), default="csv", show_default=True
)
@click.option("--bom", is_flag=True, help="Start the CSV with a UTF-8 byte order mark (Excel).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to FILE.")
@click.option(
    "--summary",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the week's summary (stories, per label per day, outlets, missed-stories"
    " estimate) as JSON to FILE.",
)
@pass_ctx
def digest(
    ctx: Context,
    week: str | None,
    chosen: str,
    include_rejected: bool,
    fmt: str,
    bom: bool,
    out: str | None,
    summary: str | None,
) -> None:
    """One ISO week's stories, one row per story (near-duplicates across outlets are one):
    week, first published, first outlet, outlets, title, url, labels, score, verdict, why
    (the terms that drove each label), note. CSV (UTF-8, RFC 4180) or Markdown, whose top
    holds the week's summary: stories per label per day, the most active outlets.

    Weeks run from Monday 00:00 in the `timezone:` setting (UTC by default). The estimate of
    stories the classifier missed that week (from reviewed `monitor audit` samples) is printed
    on stderr, and written to the JSON file given to --summary.

    \b
    Examples:
      monitor digest                      # last complete week, CSV to stdout
      monitor digest --status relevant --format markdown --out w48.md --week 2026-W48
      monitor digest --bom --out digest-w48.csv --summary digest-w48.json
    """
    from monitor.audit import format_estimate
    from monitor.digest import build_digest, write_digest, write_summary
    from monitor.pipeline import utc_now
    from monitor.weeks import WeekError, last_complete_week, zone

    if bom and fmt != "csv":
        raise click.BadParameter("only for --format csv", param_hint="--bom")
    if include_rejected and chosen != "all":
        raise click.BadParameter("only with --status all", param_hint="--include-rejected")
    timezone = ctx.timezone
    week = week or last_complete_week(utc_now(), zone(timezone))
    db = ctx.open_db()
    try:
        result = build_digest(db, week, timezone, status=chosen, include_rejected=include_rejected)
    except WeekError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    if out:
        with open(out, "w", encoding="utf-8", newline="") as handle:
            count = write_digest(result, handle, fmt, bom=bom)
        click.echo(f"{out}: {count} stories from {week}", err=True)
    else:
        stdout = click.open_file("-", "w", encoding="utf-8")
        write_digest(result, stdout, fmt, bom=bom)
        stdout.flush()
    if result.audited:
        click.echo(format_estimate(result.estimate, week), err=True)
    if summary:
        write_summary(summary, result)


@cli.command()
@click.option(
    "--share",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.02,
    show_default=True,
    help="Share of the last 7 days' unflagged stories to draw (at least 10 if there are).",
)
@click.option("--count", type=click.IntRange(min=1), help="Draw exactly this many instead.")
@click.option("--seed", type=int, help="Seed for the draw, to repeat it (default: random, kept).")
@click.option("--estimate", is_flag=True, help="Draw nothing; print the estimates per week.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_ctx
def audit(
    ctx: Context, share: float, count: int | None, seed: int | None, estimate: bool, fmt: str
) -> None:
    """Draw unflagged stories at random for review, to estimate what the classifier misses.

    Review the drawn stories with `monitor review --audit`; their verdicts give the estimate
    of relevant stories missed a week, shown by `monitor status` and `monitor digest`.

    \b
    Examples:
      monitor audit                       # 2% of the last 7 days' unflagged stories
      monitor audit --count 30 --seed 7
      monitor audit --estimate --format json
    """
    from monitor.audit import draw_audit, format_draw, missed_estimates
    from monitor.pipeline import utc_now
    from monitor.report import format_estimates
    from monitor.weeks import zone

    db = ctx.open_db()
    if estimate:
        click.echo(format_estimates(missed_estimates(db), fmt))
        return
    tz = zone(ctx.timezone)
    draw = draw_audit(db, utc_now(), share=share, count=count, seed=seed, tz=tz)
    click.echo(format_draw(draw), err=True)


@cli.command()
@click.option(
    "--eval",
    "eval_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Also evaluate the models before and after on this labelled JSONL file.",
)
@pass_ctx
def train(ctx: Context, eval_file: str | None) -> None:
    """Retrain from the seed corpus plus analysts' verdicts, install the new model, re-score
    the unreviewed articles; print cross-validated metrics before and after.

    \b
    Example:
      monitor train --eval labelled.jsonl
    """
    from monitor.model_report import format_train
    from monitor.training import train_from_verdicts

    db = storage.open_db(ctx.db_path) if ctx.db_path.exists() else None
    target_recall = ctx.config.settings.target_recall
    result = train_from_verdicts(
        db, ctx.config.model_dir(), target_recall=target_recall, eval_file=eval_file
    )
    click.echo(format_train(result))


class UsageProblem(click.ClickException):
    """A bad argument, as one `Error:` line and exit code 2 (no usage text)."""

    exit_code = 2


@cli.group(name="model")
def model_group() -> None:
    """Installed model versions: list them, or switch to one (roll back or forward).

    \b
    Example:
      monitor model list && monitor model use 20261129T003641Z-829751
    """


@model_group.command(name="list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_ctx
def model_list(ctx: Context, fmt: str) -> None:
    """Model versions, newest first: when made, from how many examples and verdicts, CV flag
    F1 and recall; the current one marked *.

    \b
    Example:
      monitor model list --format json
    """
    from monitor.model_report import format_versions
    from monitor.models import list_versions

    click.echo(format_versions(list_versions(ctx.config.model_dir()), fmt))


@model_group.command(name="use")
@click.argument("version")
@pass_ctx
def model_use(ctx: Context, version: str) -> None:
    """Make VERSION the current model and re-score the unreviewed articles with it.

    \b
    Example:
      monitor model use 20261129T003641Z-829751
    """
    from monitor.models import UnknownVersion
    from monitor.training import use_and_rescore

    db = storage.open_db(ctx.db_path) if ctx.db_path.exists() else None
    try:
        switch, rescored = use_and_rescore(db, ctx.config.model_dir(), version)
    except UnknownVersion as exc:
        raise UsageProblem(str(exc)) from None
    click.echo(f"model: {switch.previous or 'none'} -> {switch.model.version}", err=True)
    click.echo(f"re-scored {rescored} unreviewed articles", err=True)


@cli.command()
@pass_ctx
def classify(ctx: Context) -> None:
    """Score JSON lines from stdin: {"id","title","summary"} -> {"id","flagged","labels","scores"}.

    \b
    Example:
      echo '{"id": 1, "title": "China repatriates 60 defectors", "summary": ""}' | monitor classify
    """
    from monitor.models import load_current
    from monitor.scoring import InputError, classify_stream

    model = load_current(ctx.config.model_dir())
    stdin = click.open_file("-", "r", encoding="utf-8")
    stdout = click.open_file("-", "w", encoding="utf-8")
    try:
        classify_stream(model, stdin, stdout)
    except InputError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command(name="evaluate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--errors", is_flag=True, help="Also list the items the model gets wrong.")
@pass_ctx
def evaluate_cmd(ctx: Context, file: str, errors: bool) -> None:
    """Precision, recall, F1 and confusion counts per label, for the flag and per language,
    on a labelled JSONL file: the current model beside the keyword baseline.

    \b
    Example:
      monitor evaluate ../shared/eval/dev.jsonl --errors
    """
    from classifiers import load_jsonl
    from monitor.evaluation import compare, error_lines, format_sides
    from monitor.models import load_current

    items = load_jsonl(file)
    model = load_current(ctx.config.model_dir())
    title = f"model {model.version} and keyword baseline on {file}: {len(items)} items"
    click.echo(format_sides(compare(model, items), title))
    if errors:
        wrong = error_lines(model, items)
        click.echo(f"\n{len(wrong)} of {len(items)} items misclassified by the model:")
        for line in wrong:
            click.echo(line)


@cli.group(name="alerts")
def alerts_group() -> None:
    """Alerts for stories that cannot wait a week (`alerts:` in feeds.yaml).

    \b
    Example:
      NK_SMTP_PASSWORD=... monitor alerts test
    """


@alerts_group.command(name="test")
@pass_ctx
def alerts_test(ctx: Context) -> None:
    """Send one sample alert through every configured channel and say what happened;
    exit 1 if any channel failed. Stores nothing.

    \b
    Example:
      monitor alerts test
    """
    from monitor.alerts import try_channels

    alerts = ctx.config.alerts
    if alerts is None:
        raise click.ClickException(f"{ctx.config.path}: no alerts: section to test")
    failed = 0
    for channel, error in try_channels(alerts):
        if error is None:
            click.echo(f"{channel}: sent")
        else:
            failed += 1
            click.echo(f"{channel}: failed: {error.removeprefix(channel + ': ')}")
    if failed:
        raise click.ClickException(f"{failed} of {len(alerts.channel_names())} channels failed")


@cli.command()
@click.option(
    "--db", "db_arg", type=click.Path(dir_okay=False), help="Keep the demo database here."
)
def demo(db_arg: str | None) -> None:
    """Offline demo: serve the bundled sample feeds on 127.0.0.1, poll them once,
    print the flagged stories.

    \b
    Example:
      monitor demo --db demo.db && monitor --db demo.db review
    """
    from monitor.demo import run_demo
    from monitor.report import format_flagged

    started = time.monotonic()
    result = run_demo(Path(db_arg) if db_arg else None)
    click.echo(format_flagged(result.flagged, "table"))
    where = str(result.db_path) if db_arg else "a temporary database (use --db to keep it)"
    click.echo(
        f"\n{len(result.outcomes)} sample feeds, {result.articles} articles,"
        f" {len(result.flagged)} flagged, in {time.monotonic() - started:.1f} s; stored in {where}",
        err=True,
    )


def main() -> None:
    try:
        cli.main(prog_name="monitor")
    except BrokenPipeError:  # `monitor flagged | head`
        sys.exit(0)
