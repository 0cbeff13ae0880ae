"""The HTTP server: routes requests to the Daraja endpoints or the control
API, logs every Daraja request, and runs in-process or in the foreground.
"""

import logging
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .c2b_flow import C2BSender
from .callbacks import CallbackSender
from .config import SimulatorConfig
from .control import ControlApi
from .daraja_api import DarajaApi
from .errors import NOT_FOUND, DarajaError
from .identifiers import nairobi_now
from .initiator_api import InitiatorApi
from .masking import mask_body, mask_headers
from .messages import Request, Response
from .scheduler import Scheduler
from .state import SimulatorState

logger = logging.getLogger(__name__)
DARAJA_ROUTES = {
    "/oauth/v1/generate": "oauth",
    "/mpesa/stkpush/v1/processrequest": "push",
    "/mpesa/stkpushquery/v1/query": "query",
    "/mpesa/c2b/v1/registerurl": "c2b_register_v1",
    "/mpesa/c2b/v2/registerurl": "c2b_register_v2",
    "/mpesa/reversal/v1/request": "reversal",
    "/mpesa/b2c/v3/paymentrequest": "b2c",
    "/mpesa/transactionstatus/v1/query": "transaction_status",
    "/pulltransactions/v1/register": "pull_register",
    "/pulltransactions/v1/query": "pull_query",
}


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    daraja: DarajaApi
    control: ControlApi
    state: SimulatorState


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP into :class:`Request` values and back."""

    server: _HttpServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle and
    # the client's delayed ACK hold every keep-alive answer ~40 ms.
    disable_nagle_algorithm = True
    server_version = "DarajaSimulator/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("%s %s", self.address_string(), format % args)

    def _dispatch(self) -> None:
        request = self._read_request()
        if request.path == "/simulator" or request.path.startswith("/simulator/"):
            self._write(self.server.control.handle(request))
            return
        response = self._answer_daraja(request)
        if response.delay > 0:
            time.sleep(response.delay)
        self._write(response)

    def _read_request(self) -> Request:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        return Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=self.rfile.read(length) if length else b"",
        )

    def _answer_daraja(self, request: Request) -> Response:
        state = self.server.state
        request_id = state.ids.request_id()
        received = nairobi_now()
        endpoint = DARAJA_ROUTES.get(request.path)
        if endpoint is None:
            error = DarajaError(404, NOT_FOUND, "Resource not found")
            response = Response(error.status, error.body(request_id))
        else:
            response = self.server.daraja.handle(endpoint, request, request_id)
        state.log_request(_log_entry(request, endpoint, received, response))
        return response

    def _write(self, response: Response) -> None:
        payload = response.payload()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its read timed out on a slow fault).
            logger.info("client went away before the answer to %s", self.path)


def _log_entry(
    request: Request, endpoint: str | None, received: Any, response: Response
) -> dict[str, Any]:
    """One line of ``GET /simulator/requests``."""
    try:
        body: Any = request.json() if request.body else None
    except ValueError:
        body = request.body.decode("utf-8", errors="replace")
    return {
        "time": received.isoformat(),
        "endpoint": endpoint,
        "method": request.method,
        "path": request.path,
        "query": {key: values[0] for key, values in request.query.items()},
        "headers": mask_headers(request.headers),
        "body": mask_body(body),
        "response_status": response.status,
        "response_body": mask_body(response.body)
        if not isinstance(response.body, bytes)
        else None,
        "response_delay": response.delay,
    }


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (e.g. from ``run_local``) stops the server like Ctrl-C."""
    raise KeyboardInterrupt


class SimulatorServer:
    """A Daraja simulator bound to ``config.host:config.port`` (0 = free)."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.state = SimulatorState(self.config)
        self._httpd: _HttpServer | None = None
        self._scheduler: Scheduler | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` once bound."""
        if self._httpd is None:
            raise RuntimeError("simulator not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def bind(self) -> str:
        """Open the socket and wire the handlers; return the base URL."""
        self._scheduler = Scheduler()
        sender = CallbackSender(self.state, self._scheduler)
        c2b = C2BSender(self.state, self._scheduler)
        sender.on_success = c2b.notify_stk_success
        httpd = _HttpServer((self.config.host, self.config.port), _Handler)
        httpd.state = self.state
        initiator = InitiatorApi(self.state, self._scheduler)
        httpd.daraja = DarajaApi(self.state, sender, initiator)
        httpd.control = ControlApi(self.state, sender, self._scheduler, c2b)
        self._httpd = httpd
        return self.base_url

    def start(self) -> str:
        """Serve in a background thread; return the base URL."""
        base_url = self.bind()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="daraja-simulator",
            daemon=True,
        )
        self._thread.start()
        logger.info("Daraja simulator listening on %s", base_url)
        return base_url

    def serve_forever(self) -> None:
        """Serve in the foreground until KeyboardInterrupt, then stop."""
        base_url = self.bind()
        logger.info("Daraja simulator listening on %s", base_url)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            self._httpd.serve_forever()
        except KeyboardInterrupt:
            logger.info("stopping the Daraja simulator")
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving and drop callbacks not yet sent."""
        if self._scheduler is not None:
            self._scheduler.stop()
        if self._httpd is not None:
            if self._thread is not None:
                self._httpd.shutdown()
                self._thread.join(timeout=5)
            self._httpd.server_close()
        self._httpd = self._thread = self._scheduler = None

    def __enter__(self) -> "SimulatorServer":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
