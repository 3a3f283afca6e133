"""The playground's web server: the page's three files and its JSON endpoints, stdlib only.

    make_server(host, port)  a ThreadingHTTPServer with the playground's handler (port 0: any free)
    Sessions                 the live sessions by id; idle ones end after IDLE_SECONDS

What it serves, and nothing else (purebp/docs/playground.md):

    GET  /  /playground.css  /playground.js      the page, from purebp/playground/static
    POST /api/session {"config": …}              a new session → its state
    POST /api/config  {"session": id, "config": …}   new settings → the state
    POST /api/play | /api/pause | /api/step | /api/reset  {"session": id} → the state
    POST /api/close {"session": id}              the page is gone: end its session
    GET  /api/state?session=id                   the state
    GET  /api/explain?session=id&kind=weight&layer=L&from=I&to=J   (or kind=neuron&layer=K&unit=C)
    GET  /api/export/model?session=id            the model file (Network.load reads it)
    GET  /api/export/vector?session=id           a test-vector file (purebp check reads it)

Safety: only those paths (the static files are read from a fixed list, never
from a path in the request); request bodies over MAX_BODY bytes are refused
with 413 before they are read; every setting goes through the same checks as
the API (purebp.playground.session.parse_config, then Network's and the
optimizer's own), and a refused one answers 400 {"error": "…"} and leaves the
session as it was; nothing from a request is ever executed or used as a file
name; at most MAX_SESSIONS sessions live at once, and one idle for
IDLE_SECONDS ends.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import secrets
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from purebp.errors import RequestError
from purebp.playground.session import Session

#: The largest request body accepted, in bytes (a CSV upload of MAX_CSV_CHARACTERS fits).
MAX_BODY = 1024 * 1024
#: The most sessions at once, and the seconds without a request after which one ends.
MAX_SESSIONS = 16
IDLE_SECONDS = 600.0
#: The seconds a connection may stay silent while it sends its request (then it is closed).
REQUEST_SECONDS = 10.0
#: The deepest nesting of lists and objects a request body may have (a config has 3).
MAX_DEPTH = 16

#: The page's files: URL path → (file in purebp/playground/static, content type).
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/playground.css": ("playground.css", "text/css; charset=utf-8"),
    "/playground.js": ("playground.js", "text/javascript; charset=utf-8"),
}


class Sessions:
    """The live sessions by id, ending those idle for ``idle_seconds``."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS,
                 max_sessions: int = MAX_SESSIONS) -> None:
        self.idle_seconds, self.max_sessions = idle_seconds, max_sessions
        self._lock = threading.Lock()
        self._by_id: Dict[str, Session] = {}
        self._starting = 0  # sessions being built: they hold a place under the cap
        # idle sessions end even when no request comes (a page left playing, then lost)
        self._stopped = threading.Event()
        self._reaper = threading.Thread(target=self._end_idle_ones, daemon=True,
                                        name="purebp-playground-idle")
        self._reaper.start()

    def _end_idle_ones(self) -> None:
        while not self._stopped.wait(min(30.0, self.idle_seconds / 4)):
            self.end_idle()

    def new(self, config: object) -> Session:
        """Start a session with these settings (ValueError/TypeError if they are unusable)."""
        self.end_idle()
        with self._lock:
            if len(self._by_id) + self._starting >= self.max_sessions:
                raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE,
                                   f"playground: sessions must be at most {self.max_sessions}"
                                   f" at once, got one more; close another page, or wait"
                                   f" {self.idle_seconds:.0f} s for an idle one to end")
            self._starting += 1
        try:
            session = Session(config)
            session.id = secrets.token_hex(8)
            with self._lock:
                self._by_id[session.id] = session
        finally:
            with self._lock:
                self._starting -= 1
        return session

    def get(self, session_id: object) -> Session:
        self.end_idle()
        with self._lock:
            session = self._by_id.get(session_id) if isinstance(session_id, str) else None
        if session_id is None:
            raise RequestError(HTTPStatus.NOT_FOUND,
                               "playground: a session must be given (\"session\": its id),"
                               " got none")
        if session is None:
            shown = repr(session_id)[:40]
            raise RequestError(HTTPStatus.NOT_FOUND,
                               f"playground: no such session {shown} (it ends after"
                               f" {self.idle_seconds:.0f} s without a request): reload the page")
        session.touched = time.monotonic()
        return session

    def end(self, session_id: object) -> bool:
        """End the session ``session_id`` (the page was closed); False if there is none."""
        with self._lock:
            session = self._by_id.pop(session_id, None) if isinstance(session_id, str) else None
        if session is None:
            return False
        session.close()
        return True

    def end_idle(self) -> None:
        now = time.monotonic()
        with self._lock:
            idle = [k for k, s in self._by_id.items() if now - s.touched > self.idle_seconds]
            ended = [self._by_id.pop(k) for k in idle]
        for session in ended:
            session.close()

    def close_all(self) -> None:
        self._stopped.set()
        with self._lock:
            ended, self._by_id = list(self._by_id.values()), {}
        for session in ended:
            session.close()

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)


def _json_bytes(value: Any) -> bytes:
    """JSON text of value; a non-finite number (which JSON cannot hold) becomes null."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":")).encode()
    except ValueError:
        return json.dumps(_finite_or_null(value), separators=(",", ":")).encode()


def _finite_or_null(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(v) for v in value]
    return value


class Handler(BaseHTTPRequestHandler):
    """One request: a static file, or a JSON endpoint of the session it names."""

    server_version = "purebp-playground"
    sys_version = ""  # the Server header names no Python version
    sessions: Sessions  # set by make_server on a subclass
    quiet = True
    #: A slow or stalled client is cut off (StreamRequestHandler sets the socket's timeout).
    timeout = REQUEST_SECONDS
    #: Set by make_server: whether the server listens on loopback only, and the Host
    #: headers its own page sends (the first is the one its URL names).
    loopback = True
    hosts: Tuple[str, ...] = ()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)

    # -- answers --------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str,
              extra: Optional[Dict[str, str]] = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        # the page loads nothing from elsewhere, and no other site may frame it
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, _json_bytes(value), "application/json; charset=utf-8")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def send_error(self, code: int, message: Optional[str] = None,
                   explain: Optional[str] = None) -> None:
        """http.server's own refusals (501 for another method, 414, a garbled request line)
        as the endpoints' are: JSON, with the same headers."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self._error(code, f"playground: {message or phrase}")

    # -- GET ------------------------------------------------------------------

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_HEAD(self) -> None:
        self._answer(self._get)

    def do_POST(self) -> None:
        self._answer(self._post)

    def _answer(self, work: Callable[[], None]) -> None:
        try:
            self._check_origin()
            work()
        except RequestError as refused:
            self._error(refused.status, str(refused))
        except (ValueError, TypeError) as error:  # a setting or argument the checks refused
            self._error(HTTPStatus.BAD_REQUEST, str(error))
        except MemoryError:
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "playground: out of memory")
        except (ConnectionError, TimeoutError):  # the client went away, or stalled
            self.close_connection = True
        except Exception as error:  # a bug of purebp's: one line, never a traceback
            print(f"purebp playground: error: {type(error).__name__}: {error}"[:300],
                  file=sys.stderr)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR,
                        f"playground: internal error ({type(error).__name__}); please report it")

    def _check_origin(self) -> None:
        """Refuse what another web site's page sends: a Host that is not this server's (a
        DNS-rebinding attack), or a foreign Origin (a cross-site request)."""
        host = self.headers.get("Host", "")
        if self.loopback and host not in self.hosts:
            raise RequestError(HTTPStatus.FORBIDDEN,
                               f"playground: the Host header must be this server's"
                               f" ({self.hosts[0]}), got {host[:80]!r}")
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{host}":
            raise RequestError(HTTPStatus.FORBIDDEN,
                               f"playground: requests must come from this server's own page"
                               f" (Origin http://{host[:80]}), got {origin[:80]!r}")

    def _get(self) -> None:
        url = urlsplit(self.path)
        if url.path in STATIC:
            name, content_type = STATIC[url.path]
            try:
                body = resources.files("purebp.playground").joinpath("static").joinpath(name) \
                    .read_bytes()
            except OSError:
                raise RequestError(HTTPStatus.NOT_FOUND,
                                   f"playground: the page's file {name} is missing from this"
                                   f" install of purebp; reinstall it") from None
            self._send(HTTPStatus.OK, body, content_type)
            return
        try:
            fields = parse_qs(url.query, max_num_fields=16)
        except ValueError:
            raise RequestError(HTTPStatus.BAD_REQUEST, "playground: a query must have at most"
                               f" 16 fields, got {url.query.count('&') + 1}") from None
        query = {k: v[-1] for k, v in fields.items()}
        if url.path == "/api/state":
            self._json(HTTPStatus.OK, self.sessions.get(query.get("session")).state())
        elif url.path == "/api/explain":
            session = self.sessions.get(query.get("session"))
            kind = query.get("kind", "")
            if kind == "weight":
                answer = session.explain(kind, _int(query, "layer"), _int(query, "from"),
                                         _int(query, "to"))
            else:
                answer = session.explain(kind, _int(query, "layer"), _int(query, "unit"))
            self._json(HTTPStatus.OK, answer)
        elif url.path == "/api/export/model":
            text = self.sessions.get(query.get("session")).model_file()
            self._download(text, "playground-model.json")
        elif url.path == "/api/export/vector":
            text = self.sessions.get(query.get("session")).vector_case()
            self._download(text, "playground-case.json")
        else:
            raise RequestError(HTTPStatus.NOT_FOUND, f"playground: nothing at {url.path[:80]!r}")

    def _download(self, text: str, name: str) -> None:
        self._send(HTTPStatus.OK, text.encode(), "application/json; charset=utf-8",
                   {"Content-Disposition": f'attachment; filename="{name}"'})

    # -- POST -----------------------------------------------------------------

    def _body(self) -> Dict[str, Any]:
        """The request's JSON object, at most MAX_BODY bytes (413 before reading more)."""
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            # a cross-site form or text/plain POST cannot set it without the browser asking
            # first, which this server never allows
            raise RequestError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                               f"playground: a POST's Content-Type must be application/json,"
                               f" got {content_type[:60]!r}")
        length_text = self.headers.get("Content-Length")
        if length_text is None or not (length_text.isascii() and length_text.isdigit()):
            raise RequestError(HTTPStatus.LENGTH_REQUIRED,
                               f"playground: a POST's Content-Length must be a whole number,"
                               f" got {'none' if length_text is None else repr(length_text[:20])}")
        length = int(length_text)
        if length > MAX_BODY:
            self.close_connection = True  # the body is never read
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"playground: a request body must be at most {MAX_BODY:,} bytes,"
                               f" got {length:,}")
        data = self.rfile.read(length)
        if len(data) != length:
            self.close_connection = True
            raise RequestError(HTTPStatus.BAD_REQUEST,
                               f"playground: the request body must be its Content-Length of"
                               f" {length:,} bytes, got {len(data):,} before the end")
        if _too_deep(data):  # before json reads it: its depth is bounded only by the stack
            raise RequestError(HTTPStatus.BAD_REQUEST,
                               f"playground: the request body must be JSON nested at most"
                               f" {MAX_DEPTH} deep, got deeper")
        try:
            body = json.loads(data.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise RequestError(HTTPStatus.BAD_REQUEST,
                               f"playground: the request body must be JSON, got: {error}") from None
        if not isinstance(body, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST,
                               f"playground: the request body must be a JSON object,"
                               f" got {type(body).__name__}")
        return body

    def _post(self) -> None:
        path = urlsplit(self.path).path
        actions: Dict[str, Callable[[Session], Dict[str, Any]]] = {
            "/api/play": Session.play, "/api/pause": Session.pause,
            "/api/step": Session.step, "/api/reset": Session.reset,
        }
        if path not in (*actions, "/api/session", "/api/config", "/api/close"):
            raise RequestError(HTTPStatus.NOT_FOUND, f"playground: nothing at {path[:80]!r}")
        body = self._body()
        if path == "/api/session":
            self._json(HTTPStatus.OK, self.sessions.new(body.get("config")).state())
            return
        if path == "/api/close":
            self._json(HTTPStatus.OK, {"closed": self.sessions.end(body.get("session"))})
            return
        session = self.sessions.get(body.get("session"))
        if path == "/api/config":
            if "config" not in body:
                raise RequestError(HTTPStatus.BAD_REQUEST,
                                   "playground: POST /api/config must have a \"config\" object,"
                                   " got none")
            self._json(HTTPStatus.OK, session.configure(body["config"]))
        else:
            self._json(HTTPStatus.OK, actions[path](session))


#: A JSON string, or one of the brackets outside strings.
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep(data: bytes) -> bool:
    """True if the lists and objects of the JSON text ``data`` nest deeper than MAX_DEPTH."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def _int(query: Dict[str, str], name: str) -> int:
    text = query.get(name)
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 6:
        shown = "nothing" if text is None else repr(text)
        raise ValueError(f"playground: {name} must be a whole number ≥ 0, got {shown}"[:200])
    return int(text)


def make_server(host: str = "127.0.0.1", port: int = 0,
                sessions: Optional[Sessions] = None) -> Tuple[ThreadingHTTPServer, Sessions]:
    """Return a server bound to (host, port) and its sessions; ``serve_forever`` runs it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("PlaygroundServer", (_Server,), {"address_family": family})
    server = server_class((host, port), Handler)  # binds, or raises OSError
    live = Sessions() if sessions is None else sessions
    bound = server.server_address[1]
    shown = url_of(server)[len("http://"):-1]
    names = [shown, f"127.0.0.1:{bound}", f"localhost:{bound}", f"[::1]:{bound}"]
    server.RequestHandlerClass = type("PlaygroundHandler", (Handler,), {
        "sessions": live, "loopback": is_loopback(host),
        "hosts": tuple(dict.fromkeys(names))})
    return server, live


class _Server(ThreadingHTTPServer):
    """One thread per connection; a deeper listen queue than socketserver's 5, so that a
    burst of requests waits instead of being reset; a client that hangs up is no error."""

    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        print(f"purebp playground: error: {type(error).__name__}: {error}"[:300], file=sys.stderr)


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    host = host.decode() if isinstance(host, bytes) else str(host)
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"
