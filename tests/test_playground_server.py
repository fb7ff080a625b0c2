"""The playground's HTTP API without a browser: safety checks (token, Host, Origin, sizes, bad
JSON) answer 4xx and the server keeps serving; options, controls, selection, SSE, exports."""

from __future__ import annotations

import http.client
import json
import time

import pytest

from chainrule.playground.server import MAX_JSON_BYTES, PlaygroundServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # One server for the module: the point of most tests is that it survives bad requests.
    srv = PlaygroundServer(port=0, export_dir=tmp_path_factory.mktemp("exports")).start()
    yield srv
    srv.stop()


def request(server, method, path, body=None, headers=None, token=True, host=None):
    """(status, parsed JSON or text) for one request on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    all_headers = {"Host": host or f"127.0.0.1:{server.port}"}
    if token:
        all_headers["X-Chainrule-Token"] = server.token
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    conn.request(method, path, body=body, headers=all_headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    kind = resp.getheader("Content-Type", "")
    return resp.status, json.loads(raw) if kind.startswith("application/json") else raw


def still_serving(server):
    status, state = request(server, "GET", "/api/state")
    assert status == 200
    assert state["frame"]["step"] >= 0


def test_binds_loopback_with_a_token_url(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.port}/?token={server.token}"
    assert len(server.token) >= 24


def test_page_needs_the_token(server):
    status, body = request(server, "GET", "/", token=False)
    assert status == 403 and "token" in body["error"]
    status, body = request(server, "GET", f"/?token={server.token}", token=False)
    assert status == 200 and b'data-testid="boundary"' in body
    status, _ = request(server, "GET", "/static/app.js", token=False)  # public package files
    assert status == 200


@pytest.mark.parametrize("token", ["", "wrong", "x" * 200])
def test_wrong_token_is_refused(server, token):
    status, body = request(server, "GET", "/api/state", headers={"X-Chainrule-Token": token})
    assert status == 403
    still_serving(server)


@pytest.mark.parametrize("host", ["evil.example:80", "127.0.0.1", "localhost:1", "0.0.0.0"])
def test_wrong_host_is_refused(server, host):
    status, body = request(server, "GET", "/api/state", host=host)
    assert status == 400 and "Host" in body["error"]
    still_serving(server)


def test_foreign_origin_is_refused(server):
    status, body = request(
        server, "POST", "/api/control", {"action": "step"}, headers={"Origin": "http://evil"}
    )
    assert status == 403
    status, _ = request(
        server,
        "POST",
        "/api/control",
        {"action": "step"},
        headers={"Origin": f"http://localhost:{server.port}"},
    )
    assert status == 200


@pytest.mark.parametrize(
    "body, kind, status",
    [
        (b"{not json", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b'{"action": "play"}', "text/plain", 415),
        (b"[1, 2]", "application/json", 400),
        (b'{"action": "fly"}', "application/json", 400),
    ],
)
def test_malformed_requests_get_4xx(server, body, kind, status):
    got, answer = request(server, "POST", "/api/control", body, {"Content-Type": kind})
    assert got == status and answer["error"]
    still_serving(server)


@pytest.mark.parametrize(
    "options",
    [
        {"learning_rate": -1},
        {"learning_rate": "fast"},
        {"hidden": [4, 99]},
        {"hidden": [1] * 20},
        {"features": []},
        {"dataset": "mnist"},
        {"colour": "red"},
        {"noise": float("inf")},
    ],
)
def test_bad_options_get_400(server, options):
    status, answer = request(server, "POST", "/api/options", options)
    assert status == 400 and answer["error"]
    still_serving(server)


def test_oversize_bodies_get_413_before_reading(server):
    big = b"{" + b" " * (MAX_JSON_BYTES + 10) + b"}"
    status, answer = request(
        server, "POST", "/api/options", big, {"Content-Type": "application/json"}
    )
    assert status == 413
    status, answer = request(server, "POST", "/api/upload", b"1,2,0\n" * 200_000)
    assert status == 413 and "limit" in answer["error"]
    still_serving(server)


def test_huge_declared_body_is_refused_without_reading(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/api/upload", skip_host=True)
    conn.putheader("Host", f"127.0.0.1:{server.port}")
    conn.putheader("X-Chainrule-Token", server.token)
    conn.putheader("Content-Length", str(10**12))
    conn.endheaders()
    conn.send(b"1,2,0\n" * 10)
    resp = conn.getresponse()
    assert resp.status == 413
    conn.close()
    still_serving(server)


def test_missing_content_length_gets_411(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/api/control", skip_host=True)
    conn.putheader("Host", f"127.0.0.1:{server.port}")
    conn.putheader("X-Chainrule-Token", server.token)
    conn.putheader("Content-Type", "application/json")
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 411
    conn.close()
    still_serving(server)


def test_unknown_paths_and_methods(server):
    assert request(server, "GET", "/api/nothing")[0] == 404
    assert request(server, "GET", "/api/options")[0] == 405
    assert request(server, "DELETE", "/api/state")[0] == 405
    assert request(server, "GET", "/static/../server.py", token=False)[0] == 404
    assert request(server, "GET", "/static/session.py", token=False)[0] == 404
    still_serving(server)


def test_downloads_only_from_the_export_folder(server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("no")
    for name in ["../secret.txt", "%2e%2e/secret.txt", "secret.txt", ".hidden"]:
        assert request(server, "GET", f"/api/download/{name}")[0] == 404
    status, answer = request(server, "POST", "/api/export", {"kind": "script"})
    assert status == 200
    status, text = request(server, "GET", answer["url"], token=False)
    assert status == 200 and b"cr.manual_seed(INIT_SEED)" in text
    assert request(server, "POST", "/api/export", {"kind": "../../x"})[0] == 400


def test_bad_csv_upload_gets_a_clear_message(server):
    status, answer = request(server, "POST", "/api/upload", b"x1,x2,label\n1,2,zero\n")
    assert status == 400 and "'zero' is not a number" in answer["error"]
    status, answer = request(server, "POST", "/api/upload", b"1,2\n3,4\n5,6\n7,8\n")
    assert status == 400 and "expected 3 columns" in answer["error"]
    rows = "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)).encode()
    status, answer = request(server, "POST", "/api/upload", rows)
    assert status == 200 and "classification" in answer["note"]
    status, state = request(server, "GET", "/api/state")
    assert state["network"]["options"]["dataset"] == "csv"


def test_controls_options_and_selection(server):
    status, state = request(server, "POST", "/api/options", {"dataset": "xor", "hidden": [3]})
    assert status == 200 and state["network"]["widths"] == [2, 3, 1]
    status, state = request(server, "POST", "/api/control", {"action": "step"})
    assert state["frame"]["step"] == 1
    sel = {"kind": "weight", "layer": 1, "from": 0, "to": 2}
    status, state = request(server, "POST", "/api/select", sel)
    check = state["frame"]["panel"]["check"]
    assert check["autograd"] == pytest.approx(check["delta_rule"], abs=1e-12)
    assert check["numeric"] == pytest.approx(check["autograd"], abs=1e-7)
    bad = {"kind": "weight", "layer": 1, "from": 0, "to": 3}
    assert request(server, "POST", "/api/select", bad)[0] == 400
    still_serving(server)


def read_events(server, seconds):
    """The (event, data) pairs the SSE stream sends within ``seconds``."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request(
        "GET",
        f"/api/events?token={server.token}",
        headers={"Host": f"127.0.0.1:{server.port}"},
    )
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Content-Type").startswith("text/event-stream")
    events, kind, end = [], None, time.monotonic() + seconds
    while time.monotonic() < end:
        line = resp.fp.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, json.loads(line[6:])))
    conn.close()
    return events


def test_events_stream_frames_at_20_per_second_or_more(server):
    request(server, "POST", "/api/options", {"dataset": "circle"})  # 2 × 4 hidden, 500 points
    request(server, "POST", "/api/control", {"action": "play"})
    events = read_events(server, 2.0)
    request(server, "POST", "/api/control", {"action": "pause"})
    assert events[0][0] == "network"
    frames = [data for kind, data in events if kind == "frame"]
    steps = [f["step"] for f in frames]
    assert steps == sorted(steps)
    assert len(frames) / 2.0 >= 20, f"{len(frames)} frames in 2 s"
    still_serving(server)
