"""The pieces every dashboard page (and the /reports pages) is built from.

- :func:`page_key`: who is asking — an ``Authorization: Bearer`` header or the login cookie,
  checked for a scope; raises :class:`LoginRequired` when there is no key at all.
- :func:`render`: one page answers as HTML (a Jinja2 template extending ``base.html.j2``) or,
  at the same path plus ``.json``, as the very dict the template renders.
- :func:`serve_page`: the two above plus the audit log and errors as pages or the error shape.
- :func:`csrf_token` / :func:`check_csrf`: the token a state-changing form carries.
- :class:`PageError`: a bad query value (400) or a missing thing (404) with a message that
  names the parameter and the fix.

>>> safe_next("//evil.example/x"), safe_next("/models/fraud?range=7d")
('/', '/models/fraud?range=7d')
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import ChainableUndefined, Environment, FileSystemLoader
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from telltale._version import __version__
from telltale.dashboard.svg import drift_heatmap_svg, sparkline_svg
from telltale.errors import AuthError, NotFoundError, ScopeError, TelltaleError
from telltale.server.error_shape import ApiError, error_response
from telltale.store.keys import ApiKey

__all__ = [
    "COOKIE",
    "LoginRequired",
    "PageError",
    "check_csrf",
    "csrf_token",
    "error_page",
    "is_json",
    "jsonable",
    "login_redirect",
    "page_key",
    "render",
    "safe_next",
    "serve_page",
    "templates",
]

COOKIE = "telltale_key"
"""The login cookie: the API key itself (HttpOnly, SameSite=Strict), checked on every request."""

_TEMPLATES = Path(__file__).parent / "templates"
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_NAV = (
    ("Overview", "/"),
    ("Events", "/events"),
    ("Environments", "/environments"),
    ("Alerts", "/alerts"),
    ("Reports", "/reports"),
)


class LoginRequired(Exception):
    """No key came with the request: pages send the browser to /login, JSON answers 401."""


class PageError(Exception):
    """A request the page cannot answer: ``status`` 400 (a bad parameter) or 404."""

    def __init__(self, status: int, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


# ---- templates ---------------------------------------------------------------------------------


def _url_part(value: object) -> str:
    """A path segment: every reserved character escaped (a model named ``a/b`` stays one)."""
    return quote(str(value), safe="")


def _query(value: dict[str, Any]) -> str:
    """``?a=1&b=2`` of the non-empty items (lists repeat the key)."""
    pairs: list[tuple[str, str]] = []
    for name, item in value.items():
        for one in item if isinstance(item, list) else [item]:
            if one is not None and one != "":
                pairs.append((name, str(one)))
    return "?" + urlencode(pairs) if pairs else ""


def _number(value: object, digits: int = 3) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    if not math.isfinite(value):
        return str(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def _share(value: object) -> str:
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    return f"{100 * value:.3g}%"


def _when(value: object) -> str:
    """An ISO time shown as ``2026-11-22 14:02:00Z`` (UTC)."""
    if not isinstance(value, str) or not value:
        return "—"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return parsed.strftime("%Y-%m-%d %H:%M:%S") + ("Z" if parsed.utcoffset() is not None else "")


def _json_script(value: object) -> Markup:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` escaped."""
    text = json.dumps(value, allow_nan=False, separators=(",", ":"), default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # escaped above for the script-data context


def _spark(values: list[float | None], label: str = "") -> Markup:
    return Markup(sparkline_svg(values, label=label))  # the builder escapes


def _heatmap(drift: dict[str, Any], model: str) -> Markup:
    """The drift heatmap of :func:`~telltale.dashboard.drift.drift_over_time`'s answer."""
    features = list(drift["features"])
    windows = [_when(w["start"])[5:16] for w in drift["windows"]]
    svg = drift_heatmap_svg(
        features,
        windows,
        [drift["features"][f]["statistic"] for f in features],
        [drift["features"][f]["drift"] for f in features],
        thresholds=[drift["features"][f]["threshold"] for f in features],
        links=[f"/models/{_url_part(model)}/features/{_url_part(f)}" for f in features],
        pending=[w["rows"] is None for w in drift["windows"]],
    )
    return Markup(svg)  # the builder escapes


def _distribution(chart: dict[str, Any], name: str, kind: str = "") -> Markup:
    """Reference vs current as the report draws it (histogram or bars), or why it cannot."""
    from telltale.report.charts import ChartError, bar_svg, histogram_svg

    try:
        if chart.get("type") == "histogram":
            svg = histogram_svg(
                chart.get("edges"), chart.get("reference"), chart.get("current"), label=name
            )
        else:
            svg = bar_svg(
                chart.get("categories"), chart.get("reference"), chart.get("current"), label=name
            )
    except ChartError as error:
        return Markup('<p class="error">The chart cannot be drawn: {}</p>').format(str(error))
    return Markup(svg)  # the builder escapes


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=ChainableUndefined,  # filters left out of the data read as empty
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        urlpart=_url_part, query=_query, number=_number, share=_share, when=_when,
        json_script=_json_script,
    )  # fmt: skip
    env.globals.update(
        nav=_NAV, version=__version__, spark=_spark, heatmap=_heatmap, distribution=_distribution
    )
    return env


templates = _environment()
"""The dashboard's Jinja2 environment (autoescaping on, undefined names are errors). Another
package's pages add their own folder with ``templates.loader`` swapped for a ChoiceLoader, or
simply put their templates next to these and extend ``base.html.j2``."""


# ---- who is asking ----------------------------------------------------------------------------


def _secret(request: Request) -> tuple[str | None, bool]:
    """The key the request carries and whether it came from the cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip(), False
    cookie = request.cookies.get(COOKIE)
    return (cookie or None), bool(cookie)


def page_key(request: Request, action: str = "read") -> ApiKey:
    """The request's key, checked for ``action``. Raises :class:`LoginRequired` without a key,
    :class:`~telltale.errors.AuthError` for an unknown or revoked one and
    :class:`~telltale.errors.ScopeError` when its scope does not allow ``action``."""
    secret, from_cookie = _secret(request)
    if secret is None:
        raise LoginRequired()
    key = request.app.state.collector.keys.verify(secret).require(action)
    request.state.api_key = key
    request.state.key_from_cookie = from_cookie
    return key


def _hmac_key(request: Request) -> bytes:
    state = request.app.state
    if not hasattr(state, "dashboard_csrf_secret"):
        state.dashboard_csrf_secret = secrets.token_bytes(32)
    secret: bytes = state.dashboard_csrf_secret
    return secret


def csrf_token(request: Request) -> str:
    """The token a form of this session carries: an HMAC of the session's key under a secret
    made when the server started (a restart asks for a page reload, never a new login)."""
    secret, _ = _secret(request)
    return hmac.new(_hmac_key(request), (secret or "").encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, token: str | None) -> None:
    """Refuse a state-changing form (403) unless it carries :func:`csrf_token` and, when the
    browser says where it comes from (``Origin``), comes from this site. A request with a
    bearer header needs neither: a browser never adds that header by itself."""
    if not getattr(request.state, "key_from_cookie", True):
        return
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise ApiError(403, f"the form came from {origin[:100]!r}, not this site; reload the page")
    if not token or not hmac.compare_digest(token, csrf_token(request)):
        raise ApiError(403, "the form's CSRF token is missing or stale; reload the page and retry")


def safe_next(value: str | None) -> str:
    """Where to go after login: a path of this site only (no ``//host``, no scheme)."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(c in value for c in "\r\n\t\\")
        or len(value) > 2000
    ):
        return "/"
    return value


# ---- answering ---------------------------------------------------------------------------------


def is_json(request: Request) -> bool:
    return request.url.path.endswith(".json")


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": _CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def jsonable(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` (JSON has neither), tuples as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def render(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    """``data`` as JSON for a ``.json`` path, else ``template`` rendered with ``data``, the
    request, the CSRF token and the key in its context."""
    data = jsonable(data)
    if is_json(request):
        return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})
    key = getattr(request.state, "api_key", None)
    html = templates.get_template(template).render(
        data=data,
        request=request,
        path=request.url.path,
        csrf=csrf_token(request) if key is not None else "",
        key=key,
    )
    return HTMLResponse(html, status_code=status, headers=_headers())


def _status(error: Exception) -> tuple[int, str]:
    if isinstance(error, PageError):
        return error.status, error.message
    if isinstance(error, ApiError):
        return error.status, error.message
    if isinstance(error, ScopeError):
        return 403, str(error)
    if isinstance(error, AuthError):
        return 401, str(error)
    if isinstance(error, NotFoundError):
        return 404, str(error)
    return 400, str(error)


def error_page(request: Request, error: Exception) -> Response:
    status, message = _status(error)
    field = getattr(error, "field", None) or getattr(error, "details", {}).get("field")
    if is_json(request):
        code = {400: "malformed", 401: "unauthenticated", 403: "forbidden", 404: "not_found"}
        details = {"field": field} if field else {}
        return error_response(status, code.get(status, "error"), message, details)
    return render(request, "error.html.j2", {"status": status, "message": message}, status)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login" + _query({"next": target}), status_code=303)


async def serve_page(
    request: Request,
    template: str | Callable[[dict[str, Any]], str],
    build: Callable[[ApiKey], dict[str, Any]],
    *,
    audit: bool = True,
) -> Response:
    """Check the key (``read``), run ``build(key)`` on a worker thread, write the read to the
    audit log, and answer with :func:`render`; errors become an error page or the error shape."""
    try:
        key = page_key(request)
    except LoginRequired:
        if is_json(request):
            return error_response(
                401,
                "unauthenticated",
                "send Authorization: Bearer <a read key>, or log in at /login",
            )
        return login_redirect(request)
    except TelltaleError as error:
        unknown_key = isinstance(error, AuthError) and not isinstance(error, ScopeError)
        if unknown_key and not is_json(request):
            return login_redirect(request)
        return error_page(request, error)
    try:
        data = await run_in_threadpool(build, key)
    except (PageError, ApiError, TelltaleError) as error:
        status, _ = _status(error)
        if audit:
            await request.app.state.auth.audit(request, key, status)
        return error_page(request, error)
    if audit:
        await request.app.state.auth.audit(request, key, 200)
    return render(request, template if isinstance(template, str) else template(data), data)
