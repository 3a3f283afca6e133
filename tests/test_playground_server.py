"""Tests for purebp.playground.server: the endpoints, their refusals, the sessions' end."""

import http.client
import json
import threading
import time

import pytest

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
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    connection.request(method, path, body=data, headers=headers or {})
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
                                          (b'{"session": "nope"}', 404)])
def test_a_malformed_or_unknown_request_gets_a_message(served, body, status):
    response, payload = _request(served[0], "POST", "/api/play", body)
    assert response.status == status and json.loads(payload)["error"].startswith("playground: ")


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
