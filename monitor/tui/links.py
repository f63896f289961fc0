"""Opening an article's link: http(s) only, and only in a graphical browser.

A text-mode browser (lynx, w3m, $BROWSER in a terminal) would take over the terminal the review
UI is drawn on, so nothing is opened unless a desktop session is plausible: DISPLAY or
WAYLAND_DISPLAY set, or macOS or Windows. The opener runs with no terminal attached (stdin,
stdout and stderr go nowhere), in a session of its own. Otherwise the UI shows the link.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from monitor.text import one_line

Opener = Callable[[str], bool]  # url -> whether a browser was started
_started: list[subprocess.Popen[bytes]] = []  # kept until they exit: no ResourceWarning


def web_link(url: str | None) -> str | None:
    """`url` if it is a plain http(s) link (no controls, no spaces), else None."""
    if not url:
        return None
    if one_line(url) != url or " " in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def gui_command(
    env: Mapping[str, str] | None = None, platform: str | None = None
) -> list[str] | None:
    """The command that hands a URL to the desktop's browser, or None without a desktop."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if platform == "darwin":
        return ["open"]
    if platform.startswith("linux") or "bsd" in platform:
        if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
            opener = shutil.which("xdg-open")
            return [opener] if opener else None
    return None


def open_in_browser(url: str) -> bool:
    """Start the desktop's browser on `url` (an http(s) link); False when there is none."""
    if web_link(url) is None:
        return False
    if sys.platform == "win32":
        os.startfile(url)  # type: ignore[attr-defined]
        return True
    command = gui_command()
    if command is None:
        return False
    _started[:] = [child for child in _started if child.poll() is None]
    child = subprocess.Popen(
        [*command, url],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _started.append(child)
    return True
