"""Open a report in headless Chromium: the DOM after its scripts ran, or a screenshot.

Used by the end-to-end test and to make the README's screenshot. Needs Debian's ``chromium``
(``apt-get install chromium``); :func:`find_chromium` returns None when it is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=5000")


def find_chromium() -> str | None:
    """Path of a Chromium executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium not found; install it with 'apt-get install chromium'")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout, check=True)


def rendered_dom(html: str | Path, timeout: float = 120) -> str:
    """The page's DOM as HTML after its scripts and ``load`` handlers ran."""
    return _run(["--dump-dom", Path(html).resolve().as_uri()], timeout).stdout


def screenshot(html: str | Path, png: str | Path, width: int = 1280, height: int = 2400,
               timeout: float = 120) -> Path:
    """Save a ``width`` x ``height`` PNG screenshot of the page."""
    png = Path(png).resolve()
    _run([f"--screenshot={png}", f"--window-size={width},{height}",
          Path(html).resolve().as_uri()], timeout)
    return png
