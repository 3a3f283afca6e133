"""``purebp playground``: serve the playground page on this machine and open it in the browser.

The server is purebp.playground.server (http.server, standard library only);
it stops on Ctrl-C, ending every session.
"""

from __future__ import annotations

import argparse
import errno
import sys
import threading
import webbrowser
from typing import Callable, Optional, TextIO

from purebp.cli.options import Parser, int_at_least

DESCRIPTION = ("Serve the playground, a page that trains a purebp Network in front of you"
               " (data sets in the plane, layers, activation, optimizer; the decision"
               " boundary, every neuron's picture, weights, loss and gradient norms), where"
               " clicking a weight or neuron shows the equations of the last step with"
               " their numbers. It listens on 127.0.0.1 only, unless --host says otherwise,"
               " and stops on Ctrl-C.")


def add_options(parser: Parser) -> None:
    """Add --host, --port and --no-browser."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1: this machine only;"
                             " another address lets other machines train on yours, and"
                             " prints a warning)")
    parser.add_argument("--port", type=int_at_least(0, 65535), default=8000,
                        help="the port (default 8000; 0: any free port)")
    parser.add_argument("--no-browser", action="store_true",
                        help="print the address, but do not open a browser")


def run(args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None,
        open_browser: Callable[[str], object] = webbrowser.open,
        started: Optional[Callable[[object], object]] = None) -> int:
    """Serve until Ctrl-C; return 0 then, 2 if the address cannot be taken.

    ``started(server)``, if given, is called once the server listens (tests
    stop it with ``server.shutdown()``, as Ctrl-C does).
    """
    from purebp.playground import server as playground_server

    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        server, sessions = playground_server.make_server(args.host, args.port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ValueError(f"playground: port {args.port} on {args.host} is already in use;"
                             f" give another with --port, or --port 0 for any free one") from None
        raise ValueError(f"playground: cannot listen on {args.host}:{args.port}:"
                         f" {error.strerror or error}") from None
    url = playground_server.url_of(server)
    if not playground_server.is_loopback(args.host):
        print(f"purebp: warning: listening on {args.host}, not on this machine only: anyone who"
              f" can reach it can train networks here (each within the playground's limits)",
              file=err)
    print(f"purebp playground at {url} (Ctrl-C stops it)", file=out, flush=True)
    if not args.no_browser:
        threading.Thread(target=open_browser, args=(url,), daemon=True).start()
    if started is not None:
        started(server)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("purebp playground: stopped", file=out, flush=True)
    finally:
        sessions.close_all()
        server.server_close()
    return 0
