"""Tests for purebp.cli.playground: ``purebp playground`` serves, says where, and stops.

The page itself is driven in a real browser by tests/test_playground_browser.py;
the endpoints are tests/test_playground_server.py's. Here: the command line's
promises (127.0.0.1 by default, --port 0, the warning for another host, a port
in use, Ctrl-C).
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading

import pytest

from purebp import cli
from purebp.cli import playground

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
URL = re.compile(r"^purebp playground at (http://([0-9.]+):(\d+)/) \(Ctrl-C stops it\)$")


def parse(*words):
    return cli.build_parser("playground").parse_args(list(words))


def get(host, port, path):
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


class Served:
    """Runs playground.run in a thread, with a fake browser; stop() is what Ctrl-C does."""

    def __init__(self, *words):
        self.opened = []
        self.browser_called = threading.Event()
        self.listening = threading.Event()
        self.out, self.err = _Lines(), _Lines()
        self.server = None
        self.code = None
        args = parse(*words)
        self.thread = threading.Thread(target=self._run, args=(args,), daemon=True)
        self.thread.start()
        assert self.listening.wait(30), "the server did not start"

    def _open(self, url):
        self.opened.append(url)
        self.browser_called.set()

    def _started(self, server):
        self.server = server
        self.listening.set()

    def _run(self, args):
        try:
            self.code = playground.run(args, out=self.out, err=self.err,
                                       open_browser=self._open, started=self._started)
        finally:
            self.listening.set()

    def stop(self):
        self.server.shutdown()
        self.thread.join(30)
        assert not self.thread.is_alive()


class _Lines:
    """A text stream that keeps what was written (written from two threads)."""

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)
        return len(text)

    def flush(self):
        pass

    def getvalue(self):
        return "".join(self.parts)


def test_the_defaults_are_loopback_port_8000_and_a_browser():
    args = parse()
    assert (args.host, args.port, args.no_browser) == ("127.0.0.1", 8000, False)


def test_it_prints_its_url_serves_the_page_and_opens_the_browser_there():
    served = Served("--port", "0")
    try:
        match = URL.match(served.out.getvalue().splitlines()[0])
        assert match, served.out.getvalue()
        url, host, port = match.group(1), match.group(2), int(match.group(3))
        assert host == "127.0.0.1" and port == served.server.server_address[1] != 0
        status, body = get(host, port, "/")
        assert status == 200 and b'id="play"' in body
        assert served.browser_called.wait(10) and served.opened == [url]
        assert served.err.getvalue() == ""
    finally:
        served.stop()
    assert served.code == 0


def test_no_browser_opens_none():
    served = Served("--port", "0", "--no-browser")
    try:
        assert URL.match(served.out.getvalue().splitlines()[0])
    finally:
        served.stop()
    assert not served.browser_called.is_set() and served.opened == []


def test_another_host_than_loopback_is_warned_about():
    served = Served("--host", "0.0.0.0", "--port", "0", "--no-browser")
    try:
        warning = served.err.getvalue()
        assert warning.startswith("purebp: warning: listening on 0.0.0.0, not on this machine only")
    finally:
        served.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2"])
def test_loopback_hosts_get_no_warning(host):
    served = Served("--host", host, "--port", "0", "--no-browser")
    try:
        assert served.err.getvalue() == ""
    finally:
        served.stop()


def test_a_port_in_use_is_a_message_and_exit_2(capsys):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        code = cli.main(["playground", "--port", str(port), "--no-browser"])
    finally:
        taken.close()
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err == (f"purebp: error: playground: port {port} on 127.0.0.1 is already in"
                            f" use; give another with --port, or --port 0 for any free one\n")


@pytest.mark.parametrize("port", ["-1", "65536", "eighty"])
def test_a_bad_port_is_a_usage_error(capsys, port):
    code = cli.main(["playground", "--port", port])
    captured = capsys.readouterr()
    assert code == 2 and "--port" in captured.err and "Traceback" not in captured.err


def test_ctrl_c_stops_the_command_with_exit_0():
    """The real command in its own process: SIGINT (Ctrl-C) ends it cleanly, sessions and all."""
    process = subprocess.Popen([sys.executable, "-m", "purebp", "playground", "--port", "0",
                                "--no-browser"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               # a shell's background job ignores SIGINT, and Python then
                               # installs no KeyboardInterrupt: give the child the default
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = process.stdout.readline().rstrip("\n")
        match = URL.match(line)
        assert match, line + process.stderr.read()
        host, port = match.group(2), int(match.group(3))
        assert get(host, port, "/playground.js")[0] == 200
        connection = http.client.HTTPConnection(host, port, timeout=30)
        connection.request("POST", "/api/session", body=b'{"config": {}}',
                           headers={"Content-Type": "application/json"})
        assert connection.getresponse().status == 200
        connection.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out == "purebp playground: stopped\n" and err == ""
