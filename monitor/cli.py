"""The `monitor` command: thin click wrappers over the library functions."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

import storage
from classifiers.errors import ModelError
from monitor.config import Config, config_path, load_config
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
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_ctx
def status(ctx: Context, fmt: str) -> None:
    """Per-feed health: state, last success, last error, failures, next poll, articles.

    \b
    Example:
      monitor status --format json
    """
    from datetime import timedelta

    from monitor.normalise import iso
    from monitor.pipeline import utc_now
    from monitor.report import format_status

    db = ctx.open_db()
    week_ago = iso(utc_now() - timedelta(days=7))
    click.echo(format_status(storage.feed_health(db, week_ago), fmt))


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
    """Flagged stories not yet reviewed, highest score first.

    \b
    Example:
      monitor flagged --format csv > queue.csv
    """
    from monitor.report import format_flagged

    db = ctx.open_db()
    click.echo(format_flagged(storage.review_queue(db, limit=limit), fmt))


@cli.command()
@click.option("--all", "include_reviewed", is_flag=True, help="Include stories already reviewed.")
@pass_ctx
def review(ctx: Context, include_reviewed: bool) -> None:
    """Review the flagged queue in a keyboard-driven terminal UI.

    \b
    Keys: j/k move, Enter detail, r relevant, n not relevant, u undo, q quit.
    Example:
      monitor review
    """
    from monitor.tui import run_review

    ctx.open_db().close()
    run_review(ctx.db_path, include_reviewed=include_reviewed)


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
@click.option("--week", help="ISO week such as 2026-W48 (default: the last complete week).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to FILE.")
@click.option(
    "--all", "include_rejected", is_flag=True, help="Include stories marked not relevant."
)
@pass_ctx
def digest(ctx: Context, week: str | None, out: str | None, include_rejected: bool) -> None:
    """CSV of one ISO week's flagged stories (UTF-8, RFC 4180).

    \b
    Examples:
      monitor digest                      # last complete week, to stdout
      monitor digest --week 2026-W48 --out digest-w48.csv
    """
    from monitor.export import WeekError, digest_rows, last_complete_week, write_csv
    from monitor.pipeline import utc_now

    week = week or last_complete_week(utc_now())
    db = ctx.open_db()
    try:
        rows = digest_rows(db, week, include_rejected=include_rejected)
    except WeekError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    if out:
        with open(out, "w", encoding="utf-8", newline="") as handle:
            count = write_csv(rows, handle)
        click.echo(f"{out}: {count} stories from {week}", err=True)
    else:
        stdout = click.open_file("-", "w", encoding="utf-8")
        write_csv(rows, stdout)
        stdout.flush()


@cli.command()
@click.option(
    "--eval",
    "eval_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Also evaluate the new model on this labelled JSONL file.",
)
@pass_ctx
def train(ctx: Context, eval_file: str | None) -> None:
    """Retrain from the seed corpus plus analysts' verdicts; print cross-validated metrics.

    \b
    Example:
      monitor train --eval labelled.jsonl
    """
    from classifiers import evaluate, format_report, load_jsonl
    from monitor.training import train_from_verdicts

    db = storage.open_db(ctx.db_path) if ctx.db_path.exists() else None
    result = train_from_verdicts(db, ctx.config.model_dir())
    click.echo(
        f"model {result.model.version}: {result.seed_examples} seed examples"
        f" + {result.verdicts} analyst verdicts, saved to {result.path}"
    )
    click.echo(
        format_report(_report_dict(result.report), f"{result.report.folds}-fold cross-validation")
    )
    if eval_file:
        report = evaluate(result.model, load_jsonl(eval_file))
        click.echo(format_report(report, f"evaluation on {eval_file}"))


def _report_dict(report: Any) -> dict[str, Any]:
    return {"per_label": report.per_label, "flag": report.flag}


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
@pass_ctx
def evaluate_cmd(ctx: Context, file: str) -> None:
    """Precision, recall and F1 per label and for the flag, on a labelled JSONL file,
    for the current model and the keyword baseline.

    \b
    Example:
      monitor evaluate ../shared/eval/dev.jsonl
    """
    from classifiers import KeywordClassifier, evaluate, format_report, load_jsonl
    from monitor.models import load_current

    items = load_jsonl(file)
    model = load_current(ctx.config.model_dir())
    click.echo(format_report(evaluate(model, items), f"model {model.version} on {file}"))
    baseline = KeywordClassifier()
    click.echo(format_report(evaluate(baseline, items), f"keyword baseline on {file}"))


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
