"""Fixtures of the self-service unit tests: catalog rows, captured task dispatch."""
import pytest

from portal.catalog import service as catalog
from portal.selfservice import dispatch


@pytest.fixture
def sent(monkeypatch):
    """Job ids whose tasks would have been sent to Celery (after commit)."""
    ids: list[str] = []
    monkeypatch.setattr(dispatch, "send", ids.append)
    return ids


@pytest.fixture
def meridian(session):
    """A team and a service, as the demo seed has them."""
    team = catalog.upsert_team(session=session, slug="platform", name="Platform Engineering",
                               chat_channel="#platform")
    order = catalog.upsert_service(session=session, slug="order", team=team,
                                   name="Order Service", kind="service", tier=1)
    session.commit()
    return {"team": team, "order": order}


def dev_env_params(name="platform-feature-x", **over):
    return {"name": name, "team": "platform", "cost_center": "cc-1001", "replicas": "1",
            "ttl_hours": "8", **over}
