"""The demo maintenance window is planned once, on components that exist."""
from sqlalchemy import select

from portal.statuspage import demo
from portal.statuspage.models import Maintenance


def test_demo_plans_one_window_once(session, world):
    demo.seed(session=session)
    demo.seed(session=session)
    [window] = session.scalars(select(Maintenance)).all()
    assert window.service_slugs == ["search"] and window.starts_at.hour == 2
    assert (window.ends_at - window.starts_at).total_seconds() == 7200
