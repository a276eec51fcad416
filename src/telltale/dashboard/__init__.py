"""The web dashboard: server-rendered pages of the collector, each also JSON at ``<path>.json``.

``install_dashboard(app)`` adds them to the collector's FastAPI app (``create_app`` does it):

==============================================  =============================================
``/`` (``/.json``)                              every model and version at a glance
``/models/<model>``                             time series, drift heatmap, versions
``/models/<model>/features/<feature>``          distribution vs reference, drift, quality
``/environments``                               fingerprints, outputs and latency per one
``/events``, ``/events/<model>/<event id>``     the events explorer and one event
``/alerts``                                     alerts with context; acknowledge, silence
``/login`` (GET, POST), ``/logout`` (POST)      a read key kept in an HttpOnly cookie
==============================================  =============================================

Building another page (``/reports``) on the same pieces, from :mod:`telltale.dashboard.web`::

    from telltale.dashboard.web import PageError, serve_page

    @app.get("/reports")
    @app.get("/reports.json")
    async def reports(request):
        def build(key):                # runs on a worker thread, after the key was checked
            if bad:                    # a 400 page (or error-shape JSON) naming the fix
                raise PageError(400, "range=... is not one of ...", field="range")
            return {"reports": [...]}  # the .json twin and the template's ``data``
        return await serve_page(request, "reports.html.j2", build)

- ``serve_page(request, template, build, *, audit=True)``: key (cookie or bearer, read
  scope) → ``build(key)`` → audit log → :func:`render`; no key: a redirect to ``/login?next=…``
  (HTML) or 401 (JSON); errors as an error page or the server's error shape.
- ``render(request, template, data, status=200)``: HTML or, for a ``.json`` path, JSON.
- ``page_key(request, action="read") -> ApiKey``, ``csrf_token(request) -> str`` and
  ``check_csrf(request, token)`` for POST forms (the form field is ``csrf``; templates get
  it as ``csrf``).
- ``templates``: the Jinja2 environment; extend ``base.html.j2`` (blocks ``title`` and
  ``content``; filters ``number``, ``share``, ``when``, ``urlpart``, ``query``,
  ``json_script``). Static files are under ``/static/dashboard/`` (``dashboard.css``,
  ``dashboard.js``, ``vendor/chart.js/`` — Chart.js 3.9.1, MIT, see its LICENSE and VERSION).
"""

from __future__ import annotations

from typing import Any

__all__ = ["install_dashboard"]


def install_dashboard(app: Any) -> None:
    """Add the dashboard's pages, login and static files to the collector's FastAPI ``app``."""
    from telltale.dashboard.routes import install_routes

    install_routes(app)
