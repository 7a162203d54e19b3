"""Named leases: among several instances on one database, one holder does a thing (reads the chat archive) and
the others stand by until the holder's lease runs out (it renews on every round; a kill -9 stops renewing)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Lease

_LAPSED = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


async def take(session: AsyncSession, name: str, holder: str, now: dt.datetime, until: dt.datetime) -> bool:
    """Take or renew `name` until `until`; False while another holder's lease runs."""
    taken = await session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=until)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount:
        return True
    # no row yet, or someone else's live lease; two first takers racing on an empty table must not fail on the
    # primary key, so the insert sits in a savepoint
    try:
        async with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=until))
    except IntegrityError:
        return False
    return True


async def drop(session: AsyncSession, name: str, holder: str) -> None:
    """Give the lease up now (a clean stop), so another instance takes over without waiting it out."""
    await session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=_LAPSED)
        .execution_options(synchronize_session=False)
    )
