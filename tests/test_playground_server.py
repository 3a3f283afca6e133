"""Tests for purebp.playground.server: the endpoints, their refusals, the sessions' end."""

import http.client
import json
import socket
import threading
import time

import pytest

from purebp.errors import RequestError
from purebp.network import Network
from purebp.playground import server as playground
from purebp.playground.server import MAX_BODY, Sessions, make_server


@pytest.fixture
def served():
    server, sessions = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server, sessions
    server.shutdown()
    sessions.close_all()
    server.server_close()


def _request(server, method, path, body=None, headers=None):
    """One request, as the page sends it: a POST's body is JSON, and says so."""
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    headers = dict(headers or {})
    if method == "POST":
        headers.setdefault("Content-Type", "application/json")
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response, payload


def _json(server, method, path, body=None):
    response, payload = _request(server, method, path, body)
    return response.status, json.loads(payload)


def test_a_session_steps_and_its_state_is_the_networks(served):
    server, _ = served
    status, state = _json(server, "POST", "/api/session", {"config": {"data": "xor", "seed": 3}})
    assert status == 200 and state["epoch"] == 0 and len(state["boundary"]) == state["grid"] ** 2
    status, stepped = _json(server, "POST", "/api/step", {"session": state["session"]})
    assert status == 200 and stepped["epoch"] == 1 and stepped["version"] > state["version"]
    status, again = _json(server, "GET", f"/api/state?session={state['session']}")
    assert again["weights"] == stepped["weights"] != state["weights"]
    status, explained = _json(server, "GET", f"/api/explain?session={state['session']}"
                                             "&kind=weight&layer=0&from=1&to=2")
    assert status == 200 and explained["updated"] == stepped["weights"][0][1][2]


def test_close_ends_the_session_and_its_thread(served):
    server, sessions = served
    _, state = _json(server, "POST", "/api/session", {"config": {"data": "xor"}})
    session = sessions.get(state["session"])
    _json(server, "POST", "/api/play", {"session": state["session"]})
    assert _json(server, "POST", "/api/close", {"session": state["session"]}) == (200, {"closed": True})
    assert len(sessions) == 0
    session._thread.join(10)
    assert not session._thread.is_alive()
    status, answer = _json(server, "GET", f"/api/state?session={state['session']}")
    assert status == 404 and "no such session" in answer["error"]
    # closing again, or closing what never was, is no error: there is nothing to end
    assert _json(server, "POST", "/api/close", {"session": state["session"]}) == (200, {"closed": False})
    assert _json(server, "POST", "/api/close", {"session": 7}) == (200, {"closed": False})


def test_a_bad_setting_answers_400_and_leaves_the_session_as_it_was(served):
    server, _ = served
    _, state = _json(server, "POST", "/api/session", {"config": {}})
    status, answer = _json(server, "POST", "/api/config",
                           {"session": state["session"], "config": {"learning_rate": -1}})
    assert status == 400 and "learning_rate must not be negative, got -1" in answer["error"]
    _, after = _json(server, "GET", f"/api/state?session={state['session']}")
    assert after == state


@pytest.mark.parametrize("path", ["/../pyproject.toml", "/static/index.html", "/api/nothing",
                                  "/purebp/playground/server.py", "/%2e%2e/setup.py"])
def test_only_the_pages_files_and_endpoints_are_served(served, path):
    response, payload = _request(served[0], "GET", path)
    assert response.status == 404 and "error" in json.loads(payload)


def test_a_body_over_the_limit_is_refused_before_it_is_read(served):
    server, sessions = served
    response, payload = _request(server, "POST", "/api/session", b"{}",
                                 {"Content-Length": str(MAX_BODY + 1)})
    assert response.status == 413 and f"at most {MAX_BODY:,} bytes" in json.loads(payload)["error"]
    assert len(sessions) == 0


@pytest.mark.parametrize("body, status", [(b"not json", 400), (b"[1, 2]", 400),
                                          (b'{"session": "nope"}', 404), (b"", 404)])
def test_a_malformed_or_unknown_request_gets_a_message(served, body, status):
    response, payload = _request(served[0], "POST", "/api/play", body)
    error = json.loads(payload)["error"]
    assert response.status == status and error.startswith("playground: ")
    assert "None" not in error  # no Python repr: "a session must be given ..., got none"


def test_the_model_export_is_a_file_network_load_reads(served, tmp_path):
    server, _ = served
    _, state = _json(server, "POST", "/api/session", {"config": {"optimizer": "adam"}})
    _json(server, "POST", "/api/step", {"session": state["session"]})
    response, payload = _request(server, "GET", f"/api/export/model?session={state['session']}")
    assert "attachment" in response.getheader("Content-Disposition")
    (tmp_path / "m.json").write_bytes(payload)
    assert Network.load(tmp_path / "m.json").epochs_trained == 1


def test_idle_sessions_end():
    sessions = Sessions(idle_seconds=0.05)
    session = sessions.new({})
    time.sleep(0.1)
    sessions.end_idle()
    assert len(sessions) == 0 and session._closed.is_set()


def test_non_finite_numbers_become_null_in_the_json():
    assert json.loads(playground._json_bytes({"a": [1.0, float("nan"), float("inf")]})) == \
        {"a": [1.0, None, None]}


def _raw(server, data, half_close=False):
    """Send bytes on a plain socket; return what comes back before the server closes."""
    with socket.create_connection(server.server_address[:2], timeout=30) as connection:
        connection.sendall(data)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


@pytest.mark.parametrize("body", [b"[" * 500_000 + b"]" * 500_000,
                                  b'{"config": {"hidden": [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}}'])
def test_json_nested_too_deeply_is_a_400_not_a_dropped_connection(served, capfd, body):
    """Refused before json reads it, whatever the recursion limit (the C stack would not be)."""
    response, payload = _request(served[0], "POST", "/api/session", body)
    assert response.status == 400
    assert json.loads(payload)["error"] == ("playground: the request body must be JSON nested"
                                            " at most 16 deep, got deeper")
    assert capfd.readouterr().err == ""


def test_brackets_inside_strings_are_not_nesting(served):
    server, _ = served
    csv = "x,y,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(30))
    response, payload = _request(server, "POST", "/api/session",
                                 {"config": {"data": "csv", "csv": csv, "init": "[[[[[[[[[[[[[[[[[["}})
    assert response.status == 400 and "unknown config.init" in json.loads(payload)["error"]
    status, answer = _json(server, "POST", "/api/session",
                           {"config": {"data": "csv", "csv": csv + '"[[[[[[[[[[[[[[[[[[\\"'}})
    assert status == 400 and "nested" not in answer["error"]  # refused for what it is


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_post_that_is_not_json_by_its_content_type_is_refused(served, content_type):
    """A page of another site can send a form or text/plain POST without asking; not JSON."""
    server, sessions = served
    headers = {} if content_type is None else {"Content-Type": content_type}
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    connection.request("POST", "/api/session", body=b'{"config": {}}', headers=headers)
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    assert response.status == 415 and "Content-Type must be application/json" in answer["error"]
    assert len(sessions) == 0


@pytest.mark.parametrize("headers, wanted", [
    ({"Origin": "http://evil.example"}, "must come from this server's own page"),
    ({"Host": "evil.example"}, "the Host header must be this server's"),  # DNS rebinding
])
def test_requests_from_another_site_are_refused(served, headers, wanted):
    server, sessions = served
    response, payload = _request(server, "POST", "/api/session", {"config": {}}, headers)
    assert response.status == 403 and wanted in json.loads(payload)["error"]
    assert len(sessions) == 0
    response, _ = _request(server, "GET", "/", headers=headers)
    assert response.status == 403


def test_the_pages_own_host_and_origin_are_taken(served):
    server, _ = served
    port = server.server_address[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        response, _ = _request(server, "POST", "/api/session", {"config": {}},
                               {"Host": host, "Origin": f"http://{host}"})
        assert response.status == 200, host


def test_a_body_shorter_than_its_length_is_refused(served):
    server, sessions = served
    host = f"127.0.0.1:{server.server_address[1]}"
    answer = _raw(server, (f"POST /api/session HTTP/1.1\r\nHost: {host}\r\nContent-Type:"
                           f" application/json\r\nContent-Length: 100\r\n\r\n{{}}").encode(),
                  half_close=True)
    assert answer.startswith(b"HTTP/1.0 400") and b"got 2 before the end" in answer
    assert len(sessions) == 0


def test_a_stalled_client_is_cut_off(served):
    server, _ = served
    server.RequestHandlerClass.timeout = 0.3
    start = time.monotonic()
    answer = _raw(server, b"POST /api/session HTTP/1.1\r\nContent-Length: 100\r\n")  # no end
    assert time.monotonic() - start < 10 and b"HTTP/1.0 2" not in answer


def test_another_method_is_a_json_501_with_the_same_headers(served):
    response, payload = _request(served[0], "DELETE", "/api/session")
    assert response.status == 501 and json.loads(payload)["error"].startswith("playground: ")
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert "default-src 'self'" in response.getheader("Content-Security-Policy")
    assert "Python" not in response.getheader("Server")


def test_config_without_a_config_is_refused_not_a_reset(served):
    server, _ = served
    _, state = _json(server, "POST", "/api/session", {"config": {"data": "xor"}})
    _json(server, "POST", "/api/step", {"session": state["session"]})
    status, answer = _json(server, "POST", "/api/config", {"session": state["session"]})
    assert status == 400 and 'must have a "config" object' in answer["error"]
    assert _json(server, "GET", f"/api/state?session={state['session']}")[1]["epoch"] == 1


def test_the_session_cap_holds_when_pages_start_at_once():
    sessions = Sessions(max_sessions=3)
    started, refused = [], []

    def start():
        try:
            started.append(sessions.new({"samples": 2000, "hidden": [8] * 6}))
        except RequestError:
            refused.append(1)

    threads = [threading.Thread(target=start) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert (len(started), len(refused), len(sessions)) == (3, 9, 3)
    sessions.close_all()


def test_idle_sessions_end_with_no_request_coming():
    sessions = Sessions(idle_seconds=0.2)
    session = sessions.new({})
    session.play()
    assert session._closed.wait(5) and len(sessions) == 0
    sessions.close_all()
