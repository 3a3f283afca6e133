"""Take the playground's screenshots in docs/images/ (README's and purebp docs playground's).

    python3 scripts/playground_screenshots.py [--out docs/images] [--chromium /usr/bin/chromium]

Needs Playwright for Python (pip install playwright, imported here only) and
Debian's chromium. Starts the server on a free port, as ``purebp playground
--port 0`` does, and takes three pictures of the page at 1280×800:

    playground-start.png    the page as it opens (circles, hidden 4 and 2)
    playground-xor.png      xor after about 300 epochs of Adam, the weights drawn
    playground-explain.png  the same, with weight W1[0][1] clicked open

Training runs with Play, so the epoch each picture shows depends on the machine;
the pictures are illustrations, not published numbers.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import threading
from typing import List, Optional

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from purebp.playground.server import make_server, url_of  # noqa: E402  (after the path)


def take(out: pathlib.Path, chromium: str) -> List[pathlib.Path]:
    """Write the three pictures into ``out``; return their paths."""
    from playwright.sync_api import sync_playwright  # lazily: only this script needs it

    out.mkdir(parents=True, exist_ok=True)
    httpd, sessions = make_server("127.0.0.1", 0)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    written = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium,
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            settle = "async () => { await queue; }"
            page.goto(url_of(httpd))
            page.wait_for_function("() => typeof state === 'object' && state !== null")
            page.evaluate(settle)
            written.append(out / "playground-start.png")
            page.screenshot(path=str(written[-1]))

            page.select_option("#data", "xor")
            page.select_option("#optimizer", "adam")
            page.evaluate(settle)
            page.click("#play")
            page.wait_for_function("() => Number(document.getElementById('epoch').textContent)"
                                   " >= 300", timeout=120_000)
            page.click("#pause")
            page.evaluate(settle)
            written.append(out / "playground-xor.png")
            page.screenshot(path=str(written[-1]), full_page=True)

            page.click("#w-0-0-1")
            page.wait_for_selector("#explain-body li")
            page.locator("#explain-panel").scroll_into_view_if_needed()
            written.append(out / "playground-explain.png")
            page.screenshot(path=str(written[-1]))
            browser.close()
    finally:
        httpd.shutdown()
        sessions.close_all()
        httpd.server_close()
    return written


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"),
                        help="the folder to write the pictures to (default docs/images)")
    parser.add_argument("--chromium", default="/usr/bin/chromium",
                        help="the Chromium to drive (default /usr/bin/chromium)")
    args = parser.parse_args(argv)
    for path in take(pathlib.Path(args.out), args.chromium):
        print(f"wrote {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
