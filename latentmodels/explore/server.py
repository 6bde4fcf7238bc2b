"""The explorer's web server: a Starlette application over one :class:`ExploreSession`.

Every request is validated before the model sees it (wrong-length or non-finite latent
vectors, oversized batches and malformed JSON get a 4xx with a message, and the server keeps
serving). Only the page's own assets and the run's own top-level files are served, from fixed
lists, so a path-traversal attempt gets 404. Bound to anything but loopback, every request
must carry the access token (``?token=`` once, then a cookie, or the ``X-Explore-Token``
header). A run that cannot be explored gets an error page, not a stack trace.
"""

from __future__ import annotations

import html
import ipaddress
import json
import math
import secrets
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .assets import ASSETS, page_html, plotly_path
from .session import MAX_BATCH, ExploreSession, RunNotExplorable

__all__ = ["TOKEN_COOKIE", "access_token", "create_app", "is_loopback", "serve"]

TOKEN_COOKIE = "latentmodels_explore_token"
#: Largest request body read (a full batch of 512-D vectors is about 2 MB of JSON).
MAX_BODY = 4 * 2 ** 20
#: The run files the page may link to (the training report and its figures).
RUN_SUFFIXES = (".html", ".png", ".json")


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def access_token(host: str, token: str | None) -> str | None:
    """The token the server asks for: the given one, one made up when ``host`` is not
    loopback, else None (no token on loopback unless asked for).

    Examples
    --------
    >>> access_token("127.0.0.1", None) is None, len(access_token("0.0.0.0", None)) > 16
    (True, True)
    """
    if token is None and not is_loopback(host):
        return secrets.token_urlsafe(18)
    return token


class ApiError(Exception):
    """A request the explorer refuses, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error_page(title: str, message: str, status: int) -> HTMLResponse:
    body = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title>"
            "<link rel='stylesheet' href='/assets/explore.css'></head><body>"
            f"<main class='error'><h1>{html.escape(title)}</h1><p id='error-message'>"
            f"{html.escape(message)}</p></main></body></html>")
    return HTMLResponse(body, status_code=status)


def _number(value: Any, name: str, *, integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError(422, f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ApiError(422, f"{name} must be finite, got {value!r}")
    if integer:
        if float(value) != int(value):
            raise ApiError(422, f"{name} must be an integer, got {value!r}")
        return int(value)
    return float(value)


def _query_number(request: Request, name: str, default: Any, *, integer: bool = False) -> Any:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ApiError(422, f"{name} must be {'an integer' if integer else 'a number'}, "
                            f"got {raw!r}") from None
    return _number(value, name, integer=integer)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, f"the request body has {len(raw)} bytes; at most {MAX_BODY}")
    try:
        value = json.loads(raw or b"{}", parse_constant=lambda name: float(name))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return value


def _vectors(value: Any, name: str) -> Any:
    """A list (of lists) of numbers, its size bounded before NumPy sees it."""
    if not isinstance(value, list) or not value:
        raise ApiError(422, f"{name} must be a non-empty list of numbers or of lists of numbers")
    if isinstance(value[0], list) and len(value) > MAX_BATCH:
        raise ApiError(413, f"{name} holds {len(value)} vectors; at most {MAX_BATCH} per request")
    rows = value if isinstance(value[0], list) else [value]
    for row in rows:
        if not isinstance(row, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in row):
            raise ApiError(422, f"{name} must hold only numbers")
    return value


def create_app(run_dir: Any, *, token: str | None = None, max_points: int = 60000,
               session: ExploreSession | None = None) -> Starlette:
    """The explorer application for one run.

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run directory.
    token : str, optional
        When given, every request must carry it (``?token=``, the cookie it sets, or the
        ``X-Explore-Token`` header); :func:`serve` sets one whenever the host is not loopback.
    max_points : int, default=60000
        Most points on the map.
    session : ExploreSession, optional
        An already loaded session of ``run_dir`` (tests and benchmarks reuse one).

    Returns
    -------
    starlette.applications.Starlette

    Examples
    --------
    >>> from starlette.testclient import TestClient
    >>> client = TestClient(create_app("no/such/run"))
    >>> response = client.get("/")
    >>> response.status_code, "no such run directory" in response.text
    (422, True)
    """
    problem: str | None = None
    if session is None:
        try:
            session = ExploreSession(run_dir, max_points=max_points)
        except RunNotExplorable as exc:
            problem = str(exc)
    run_path = Path(run_dir).resolve()

    def need_session() -> ExploreSession:
        if session is None:
            raise ApiError(422, problem or "no run loaded")
        return session

    def need(family: str) -> ExploreSession:
        current = need_session()
        if current.family != family:
            raise ApiError(404, f"this run is a {current.family} run, not {family}")
        return current

    async def index(request: Request) -> Response:
        if session is None:
            return _error_page("This run cannot be explored", problem or "", 422)
        return HTMLResponse(page_html(f"{session.model_name} · {run_path.name}"))

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "plotly.min.js":
            return FileResponse(plotly_path(), media_type="text/javascript")
        if name not in ASSETS:
            return JSONResponse({"error": "not found"}, status_code=404)
        path, media = ASSETS[name]
        return FileResponse(path, media_type=media)

    async def run_file(request: Request) -> Response:
        name = request.path_params["name"]
        candidate = (run_path / name).resolve()
        if (candidate.parent != run_path or not candidate.is_file()
                or candidate.suffix not in RUN_SUFFIXES):
            return JSONResponse({"error": "not found"}, status_code=404)
        return FileResponse(candidate)

    def info(request: Request) -> Response:
        return JSONResponse(need_session().info())

    def map_points(request: Request) -> Response:
        current = need("latent")
        method = request.query_params.get("method", "pca")
        points = current.map(method)
        return JSONResponse({"method": method, "x": points[:, 0].round(4).tolist(),
                             "y": points[:, 1].round(4).tolist()})

    def item(request: Request) -> Response:
        return JSONResponse(need_session().item(int(request.path_params["index"])))

    async def decode(request: Request) -> Response:
        current = need("latent")
        body = await _body(request)
        label = body.get("label")
        if "z" in body:
            return JSONResponse(current.decode(_vectors(body["z"], "z"), label=label))
        if "xy" in body:
            method = body.get("method", "pca")
            return JSONResponse(current.decode_map(_vectors(body["xy"], "xy"), method, label=label))
        raise ApiError(422, "give z (latent vectors) or xy (map positions) to decode")

    async def interpolate(request: Request) -> Response:
        current = need("latent")
        body = await _body(request)
        ends = []
        for name in ("start", "end"):
            if name not in body:
                raise ApiError(422, f"{name} is missing: a point index or a latent vector")
            value = body[name]
            if isinstance(value, list):
                ends.append(_vectors(value, name))
            else:
                index = _number(value, name, integer=True)
                if not 0 <= index < current.n_points:
                    raise ApiError(422, f"{name} must be in [0, {current.n_points}), got {index}")
                ends.append(current.codes[index])
        steps = _number(body.get("steps", 10), "steps", integer=True)
        return JSONResponse(current.interpolate(*ends, steps=steps,
                                                mode=str(body.get("mode", "linear")),
                                                label=body.get("label")))

    async def sample(request: Request) -> Response:
        current = need("latent")
        body = await _body(request)
        return JSONResponse(current.sample(_number(body.get("n", 8), "n", integer=True),
                                           seed=_number(body.get("seed", 0), "seed", integer=True),
                                           label=body.get("label")))

    def anomalies(request: Request) -> Response:
        current = need("latent")
        threshold = _query_number(request, "threshold", None)
        n = _query_number(request, "n", 8, integer=True)
        return JSONResponse(current.anomalies(n, threshold))

    def search(request: Request) -> Response:
        return JSONResponse({"indices": need_session().labels_matching(
            request.query_params.get("label", ""))})

    def topics(request: Request) -> Response:
        return JSONResponse(need("lda").topics())

    def topic(request: Request) -> Response:
        current = need("lda")
        weight = _query_number(request, "relevance", 0.6)
        return JSONResponse(current.topic(int(request.path_params["k"]), weight=weight,
                                          n_terms=_query_number(request, "n", 20, integer=True)))

    def sequence(request: Request) -> Response:
        return JSONResponse(need("hmm").sequence())

    def state(request: Request) -> Response:
        return JSONResponse(need("hmm").state(int(request.path_params["k"])))

    async def refuse(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ApiError):
            status = exc.status
        elif isinstance(exc, OverflowError):
            status = 413
        elif isinstance(exc, IndexError):
            status = 404
        else:
            status = 422
        return JSONResponse({"error": str(exc)}, status_code=status)

    async def failed(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": f"the explorer failed on this request: "
                                      f"{type(exc).__name__}: {exc}"}, status_code=500)

    routes = [
        Route("/", index),
        Route("/assets/{name:path}", asset),
        Route("/run/{name:path}", run_file),
        Route("/api/info", info),
        Route("/api/map", map_points),
        Route("/api/item/{index:int}", item),
        Route("/api/decode", decode, methods=["POST"]),
        Route("/api/interpolate", interpolate, methods=["POST"]),
        Route("/api/sample", sample, methods=["POST"]),
        Route("/api/anomalies", anomalies),
        Route("/api/search", search),
        Route("/api/topics", topics),
        Route("/api/topic/{k:int}", topic),
        Route("/api/sequence", sequence),
        Route("/api/state/{k:int}", state),
    ]
    handlers = {ApiError: refuse, ValueError: refuse, TypeError: refuse, OverflowError: refuse,
                IndexError: refuse, Exception: failed}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.session = session
    if token is not None:
        app.add_middleware(_TokenGate, token=token)
    return app


class _TokenGate:
    """Refuses requests without the token; a ``?token=`` visit sets the cookie the page's
    later requests carry."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        offered = (request.query_params.get("token") or request.headers.get("x-explore-token")
                   or request.cookies.get(TOKEN_COOKIE) or "")
        if not secrets.compare_digest(offered.encode(), self.token.encode()):
            response = JSONResponse({"error": "this explorer needs its access token: open the "
                                              "address printed by `latentmodels explore`"},
                                    status_code=401)
            await response(scope, receive, send)
            return
        if request.query_params.get("token"):
            async def send_with_cookie(message: Any) -> None:
                if message["type"] == "http.response.start":
                    cookie = (f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; "
                              "SameSite=Strict").encode()
                    message.setdefault("headers", []).append((b"set-cookie", cookie))
                await send(message)

            await self.app(scope, receive, send_with_cookie)
            return
        await self.app(scope, receive, send)


def serve(run_dir: Any, *, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True,
          token: str | None = None, max_points: int = 60000,
          session: ExploreSession | None = None) -> None:
    """Load the run and serve the explorer until interrupted (Ctrl-C).

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run directory.
    host : str, default="127.0.0.1"
        Interface to bind; anything but loopback requires a token (one is made if not given).
    port : int, default=8765
        TCP port (0 picks a free one).
    open_browser : bool, default=True
        Open the page in the default browser.
    token : str, optional
        The access token; required off loopback, made up when None.
    max_points : int, default=60000
        Most points on the map.
    session : ExploreSession, optional
        The run, already loaded.

    Examples
    --------
    >>> # serve("runs/vae")  # then open http://127.0.0.1:8765/
    """
    import threading
    import webbrowser

    import uvicorn

    if session is None:
        session = ExploreSession(run_dir, max_points=max_points)
    token = access_token(host, token)
    app = create_app(run_dir, token=token, session=session)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.05)
        bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
        url = f"http://{shown}:{bound}/" + (f"?token={token}" if token else "")
        print(f"Exploring {run_dir} at {url}  (Ctrl-C stops)", flush=True)
        if open_browser:
            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
