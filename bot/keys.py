"""Typed application keys (aiohttp AppKey): one place names every resource the app holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.wecom.client import WeComClient

SETTINGS_KEY = web.AppKey("settings", Settings)
ENGINE_KEY = web.AppKey("engine", AsyncEngine)
SESSIONMAKER_KEY = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
CLIENT_KEY: web.AppKey[WeComClient] = web.AppKey("wecom_client")
RUNTIME_KEY: web.AppKey[Runtime] = web.AppKey("runtime")
