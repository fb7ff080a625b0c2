"""The playground's web server: the standard library's ``ThreadingHTTPServer``, one JSON API,
server-sent events for the live state, and a training thread.

Safety, as Jupyter does it: the server binds 127.0.0.1 only; every request but the page's own
static files needs the random token from the printed URL (``?token=`` or the
``X-Chainrule-Token`` header); the Host header must name this server (so a DNS-rebinding page
cannot reach it) and an Origin, when sent, must be this server's; JSON bodies and uploads have
size limits checked before reading; any malformed request gets a 4xx JSON ``{"error": …}``
and the server keeps serving. Files are read only from the package's ``static`` folder and
read or written only in the export folder.

API (all under ``/api/``): ``GET state`` (network + frame), ``GET events`` (SSE: ``network``
and ``frame`` events), ``POST options`` (JSON options), ``POST control`` (``{"action": …}``),
``POST select`` (the neuron or weight for the gradient panel), ``POST upload`` (CSV body),
``POST export`` (``{"kind": "npz" | "onnx" | "script"}``), ``GET download/NAME``.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chainrule.playground import export, view
from chainrule.playground.datasets import MAX_CSV_BYTES, CSVError
from chainrule.playground.session import Session

STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
MAX_JSON_BYTES = 64 * 1024
#: An oversize body up to this size is read and dropped before the 413 answer (a browser that
#: is still sending would otherwise see a reset connection instead of the message); a bigger
#: one is not read at all.
DRAIN_BYTES = 8 * 1024 * 1024
#: Frames per second the training thread aims for while playing.
FPS = 30
KEEPALIVE_SECONDS = 15
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")
_DOWNLOAD_TYPES = {".npz": "application/zip", ".onnx": "application/octet-stream"}


class RequestError(Exception):
    """A request the server refuses: answered with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# ----- server-sent events ---------------------------------------------------------------------
class Client:
    """One open event stream: pending ``network`` events in order, and only the newest frame
    (a slow page skips frames instead of piling them up)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.network: list[str] = []
        self.frame: str | None = None
        self.closed = False

    def take(self, timeout: float) -> list[tuple[str, str]]:
        """Wait up to ``timeout`` seconds; returns the events to send (empty on timeout)."""
        with self.cond:
            if not (self.network or self.frame or self.closed):
                self.cond.wait(timeout)
            events = [("network", n) for n in self.network]
            if self.frame is not None:
                events.append(("frame", self.frame))
            self.network, self.frame = [], None
            return events


class Hub:
    """Every open event stream; :meth:`publish` hands an event to all of them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clients: set[Client] = set()

    def add(self) -> Client:
        client = Client()
        with self.lock:
            self.clients.add(client)
        return client

    def remove(self, client: Client) -> None:
        with self.lock:
            self.clients.discard(client)

    def publish(self, kind: str, text: str) -> None:
        with self.lock:
            clients = list(self.clients)
        for c in clients:
            with c.cond:
                if kind == "network":
                    c.network.append(text)
                else:
                    c.frame = text
                c.cond.notify()

    def close(self) -> None:
        with self.lock:
            clients = list(self.clients)
        for c in clients:
            with c.cond:
                c.closed = True
                c.cond.notify()


# ----- the training thread ---------------------------------------------------------------------
class Runner(threading.Thread):
    """Steps the session while it plays: ``speed`` steps, then one frame, about FPS a second."""

    def __init__(self, server: PlaygroundServer) -> None:
        super().__init__(name="chainrule-playground-runner", daemon=True)
        self.server = server
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.frames = 0  # frames published while playing, for the speed measurement

    def run(self) -> None:
        session = self.server.session
        while not self.stopping.is_set():
            if not session.playing:
                self.wake.wait(0.2)
                self.wake.clear()
                continue
            start = time.perf_counter()
            version = session.version
            session.step(session.config.speed)
            self.server.publish(network=session.version != version)
            self.frames += 1
            self.stopping.wait(max(0.0, 1.0 / FPS - (time.perf_counter() - start)))


# ----- the server ------------------------------------------------------------------------------
class PlaygroundServer(ThreadingHTTPServer):
    """The playground on ``127.0.0.1:port`` (0: a free port). :meth:`start` serves it from
    background threads; :attr:`url` is the address with the token."""

    daemon_threads = True

    def __init__(
        self,
        port: int = 0,
        export_dir: str | Path | None = None,
        session: Session | None = None,
        token: str | None = None,
    ) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.token = token or secrets.token_urlsafe(24)
        self.session = session or Session()
        folder = export_dir or tempfile.mkdtemp(prefix="chainrule-playground-")
        self.export_dir = Path(folder).resolve()
        self.export_dir.mkdir(parents=True, exist_ok=True)
        self.hub = Hub()
        self.runner = Runner(self)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        """The page's address, token included: what the command prints and opens."""
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def start(self) -> PlaygroundServer:
        """Serve and train from daemon threads; returns self."""
        self.runner.start()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop training and serving, close the event streams and the socket."""
        self.runner.stopping.set()
        self.runner.wake.set()
        self.hub.close()
        self.shutdown()
        self.server_close()

    def state_json(self) -> tuple[str, str]:
        """The network and frame as JSON text, computed under the session's lock."""
        with self.session.lock:
            network = view.network(self.session)
            frame = view.frame(self.session)
        return _dumps(network), _dumps(frame)

    def publish(self, network: bool = False) -> None:
        """Push the current frame (and the network, when it changed) to every open page."""
        if not self.hub.clients:
            return
        with self.session.lock:
            net = _dumps(view.network(self.session)) if network else None
            frame = _dumps(view.frame(self.session))
        if net is not None:
            self.hub.publish("network", net)
        self.hub.publish("frame", frame)


def _dumps(obj: Any) -> str:
    return json.dumps(view.clean(obj), allow_nan=False, ensure_ascii=False)


# ----- requests ----------------------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    """One request; all routing and checks live here."""

    server: PlaygroundServer
    server_version = "chainrule-playground"
    timeout = 60  # seconds a client may stall a read or write before its thread gives up

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # quiet: the terminal shows the URL, not every request

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        try:
            self._check_host_and_origin()
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            if method == "GET" and parts.path.startswith("/static/"):
                return self._static(parts.path[len("/static/") :])
            if method == "GET" and parts.path == "/favicon.ico":
                return self._send(204, b"", "image/x-icon")  # none; spares the console a 403
            self._check_token(query)
            self._route(method, parts.path)
        except RequestError as err:
            self._json(err.status, {"error": str(err)})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page went away mid-answer
        except Exception as err:  # noqa: BLE001 - one bad request must never stop the server
            self._json(500, {"error": f"internal error: {type(err).__name__}: {err}"})

    # ----- checks -----------------------------------------------------------------------------
    def _allowed_hosts(self) -> set[str]:
        port = self.server.port
        return {f"127.0.0.1:{port}", f"localhost:{port}"}

    def _check_host_and_origin(self) -> None:
        host = self.headers.get("Host", "")
        if host not in self._allowed_hosts():
            raise RequestError(400, f"bad Host header {host!r}: use the URL the command printed")
        origin = self.headers.get("Origin")
        if origin is not None and origin not in {f"http://{h}" for h in self._allowed_hosts()}:
            raise RequestError(403, f"cross-origin request from {origin!r} refused")

    def _check_token(self, query: dict[str, list[str]]) -> None:
        given = self.headers.get("X-Chainrule-Token") or (query.get("token") or [""])[0]
        if not hmac.compare_digest(given.encode(), self.server.token.encode()):
            raise RequestError(
                403, "missing or wrong token: open the URL (with ?token=…) the command printed"
            )

    def _body(self, limit: int) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            raise RequestError(411, "a Content-Length header is required")
        try:
            n = int(length)
        except ValueError:
            raise RequestError(400, f"bad Content-Length {length!r}") from None
        if n < 0:
            raise RequestError(400, f"bad Content-Length {length!r}")
        if n > limit:
            self.close_connection = True  # the unread rest must not be taken for a request
            if n <= DRAIN_BYTES:  # read and drop it, so that a browser sees the 413 message
                left = n
                while left > 0:
                    chunk = self.rfile.read(min(65536, left))
                    if not chunk:
                        break
                    left -= len(chunk)
            raise RequestError(413, f"the body is {n:,} bytes; the limit here is {limit:,}")
        return self.rfile.read(n)

    def _json_body(self) -> Any:
        kind = self.headers.get("Content-Type", "")
        if not kind.startswith("application/json"):
            raise RequestError(415, "send the body as application/json")
        raw = self._body(MAX_JSON_BYTES)
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise RequestError(400, f"the body is not valid JSON: {err}") from None

    # ----- answers ----------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, _dumps(obj).encode("utf-8"), "application/json; charset=utf-8")

    def _static(self, name: str) -> None:
        if not _SAFE_NAME.match(name) or Path(name).suffix not in STATIC_TYPES:
            raise RequestError(404, f"no static file {name!r}")
        path = STATIC / name
        if not path.is_file():
            raise RequestError(404, f"no static file {name!r}")
        self._send(200, path.read_bytes(), STATIC_TYPES[path.suffix])

    # ----- routes -----------------------------------------------------------------------------
    def _route(self, method: str, path: str) -> None:
        routes = {
            ("GET", "/"): self._page,
            ("GET", "/api/state"): self._state,
            ("GET", "/api/events"): self._events,
            ("POST", "/api/options"): self._options,
            ("POST", "/api/control"): self._control,
            ("POST", "/api/select"): self._select,
            ("POST", "/api/upload"): self._upload,
            ("POST", "/api/export"): self._export,
        }
        if method == "GET" and path.startswith("/api/download/"):
            return self._download(path[len("/api/download/") :])
        handler = routes.get((method, path))
        if handler is None:
            known = {p for _, p in routes}
            status = 405 if path in known else 404
            raise RequestError(status, f"no {method} {path} here")
        handler()

    def _page(self) -> None:
        self._send(200, (STATIC / "index.html").read_bytes(), STATIC_TYPES[".html"])

    def _state(self) -> None:
        network, frame = self.server.state_json()
        body = f'{{"network": {network}, "frame": {frame}}}'.encode()
        self._send(200, body, "application/json; charset=utf-8")

    def _after_change(self, version: int) -> None:
        """Answer a change with the new state and push it to every page."""
        self.server.publish(network=self.server.session.version != version)
        self.server.runner.wake.set()
        self._state()

    def _options(self) -> None:
        body = self._json_body()
        version = self.server.session.version
        try:
            self.server.session.update(body)
        except ValueError as err:
            raise RequestError(400, str(err)) from None
        self._after_change(version)

    def _control(self) -> None:
        body = self._json_body()
        if not isinstance(body, dict) or not isinstance(body.get("action"), str):
            raise RequestError(400, 'expected {"action": "play" | "pause" | "step" | …}')
        version = self.server.session.version
        try:
            self.server.session.control(body["action"])
        except ValueError as err:
            raise RequestError(400, str(err)) from None
        self._after_change(version)

    def _select(self) -> None:
        body = self._json_body()
        try:
            self.server.session.select(body)
        except ValueError as err:
            raise RequestError(400, str(err)) from None
        self._after_change(self.server.session.version)

    def _upload(self) -> None:
        raw = self._body(MAX_CSV_BYTES)
        version = self.server.session.version
        try:
            note = self.server.session.upload(raw)
        except CSVError as err:
            raise RequestError(400, f"CSV not used: {err}") from None
        self.server.publish(network=self.server.session.version != version)
        self._json(200, {"note": note})

    def _export(self) -> None:
        body = self._json_body()
        makers = {
            "npz": export.export_npz,
            "onnx": export.export_onnx,
            "script": export.export_script,
        }
        kind = body.get("kind") if isinstance(body, dict) else None
        if kind not in makers:
            raise RequestError(400, 'expected {"kind": "npz" | "onnx" | "script"}')
        try:
            path = makers[kind](self.server.session, self.server.export_dir)
        except ImportError as err:
            raise RequestError(501, str(err)) from None
        url = f"/api/download/{path.name}?token={self.server.token}"
        self._json(200, {"file": path.name, "url": url})

    def _download(self, name: str) -> None:
        folder = self.server.export_dir
        path = (folder / name).resolve()
        if not _SAFE_NAME.match(name) or path.parent != folder or not path.is_file():
            raise RequestError(404, f"no exported file {name!r}")
        kind = _DOWNLOAD_TYPES.get(path.suffix, "text/x-python; charset=utf-8")
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        self._send(200, path.read_bytes(), kind, disposition)

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        client = self.server.hub.add()
        try:
            network, frame = self.server.state_json()
            self._event("network", network)
            self._event("frame", frame)
            while not client.closed:
                events = client.take(KEEPALIVE_SECONDS)
                if not events:
                    self.wfile.write(b": keep-alive\n\n")  # a comment: proxies keep it open
                for kind, text in events:
                    self._event(kind, text)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the page closed the stream
        finally:
            self.server.hub.remove(client)
            self.close_connection = True

    def _event(self, kind: str, text: str) -> None:
        self.wfile.write(f"event: {kind}\ndata: {text}\n\n".encode())
