"""The secretary's console: the branch's books in a browser, logged in with WeCom (issue 16, docs/console.md)."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.config import Settings
from bot.console import auth, views

HERE = Path(__file__).parent


def setup_console(app: web.Application, settings: Settings) -> None:
    """Register the console's routes and its template environment on the bot's one app."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        app_key=views.JINJA_KEY,
        autoescape=True,  # every value is escaped: names and notes come from chat
    )
    env.filters["dt"] = lambda t: t.strftime("%Y-%m-%d %H:%M") if t else ""
    env.filters["mdt"] = lambda t: t.strftime("%m-%d %H:%M") if t else ""
    env.filters["md"] = lambda d: f"{d.month}月{d.day}日" if d else ""
    app[views.SIGNER_KEY] = auth.Signer(settings)
    r = app.router
    r.add_get("/console", views.root)
    r.add_get("/console/", views.home)
    r.add_get("/console/oauth/callback", views.oauth_callback)
    r.add_get("/console/login/qr", views.login_qr)
    r.add_post("/console/logout", views.logout)
    r.add_post("/console/branch", views.choose_branch)
    r.add_get("/console/visits", views.visits)
    r.add_get("/console/matters", views.matters)
    r.add_get("/console/matters/{kind}/{number}", views.matter_detail)
    r.add_post("/console/matters/{kind}/{number}/act", views.matter_act)
    r.add_get("/console/roster", views.roster)
    r.add_post("/console/roster/upload", views.roster_upload)
    r.add_get("/console/roster.xlsx", views.roster_download)
    r.add_post("/console/roster/changes/{number}", views.link_decide)
    r.add_get("/console/ledgers", views.ledger_list)
    r.add_get("/console/ledgers/{kind}.xlsx", views.ledger_download)
    r.add_get("/console/sending", views.sending)
    r.add_post("/console/sending/{id:\\d+}/retry", views.retry)
    r.add_post("/console/jobs/{name}/run", views.run_job)
    r.add_get("/console/points", views.points_page)
    r.add_static("/console/static/", HERE / "static", name="console_static")
