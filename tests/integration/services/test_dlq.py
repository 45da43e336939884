"""Dead letters end to end, on RabbitMQ and on the queue tables: a message the order
service's consumer cannot process lands in its DLQ through the real transport, the
services' DLQ API and gauge show it, the portal's page lists it (count, age, error,
sample), and Redrive (after the cause is fixed) gets it processed while Discard deletes
it; both audited, on-call only, confirmed."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from platform_services.common.messaging import publisher_for
from portal.auth.models import AuditEntry
from portal.catalog import service as catalog
from tests.integration.services import tokens
from tests.integration.services.servers import BROKER_URL, register
from tests.integration.services.test_messaging import wait_for
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration
QUEUE = "orders.shipments"


@pytest.fixture(params=["rabbitmq", "tables"])
def order(request, config, services_db, run_service):
    """A running order service on one transport, its DLQ emptied; (running, config)."""
    cfg = config("order", rabbitmq_url=BROKER_URL if request.param == "rabbitmq"
                 else services_db)
    running = run_service(cfg)
    wait_for(lambda: api.get(f"{running.url}/readyz", timeout=5).json()["status"] == "ok")
    assert api.post(f"{running.url}/v1/dlq/{QUEUE}/discard", timeout=10).status_code == 200
    return running, cfg


@pytest.fixture
def portal(app, session, order, login_as, platform_auth):
    app.config.update(tokens.portal_config(platform_auth.url))
    team = catalog.upsert_team(session=session, slug="commerce-d", name="Commerce",
                               chat_channel=None)
    catalog.upsert_service(session=session, slug="order-d", team=team, name="Order Service",
                           base_url=order[0].url)
    session.commit()
    return login_as("oncall")


def dead_letters(url):
    [queue] = api.get(f"{url}/v1/dlq", timeout=10).json()["queues"]
    assert queue["queue"] == QUEUE
    return queue


def dlq_gauge(url):
    text = api.get(f"{url}/metrics", timeout=5).text
    found = re.search(r'^meridian_dlq_messages\{queue="orders.shipments",service="order"\} '
                      r'(\S+)$', text, re.M)
    return float(found.group(1))


def poison(cfg, tenant_id):
    """A shipment for a tenant the order service does not know (yet): it fails every try."""
    order_id = str(uuid.uuid4())
    publisher = publisher_for(cfg)
    publisher.publish("fulfillment.events", "shipment.shipped",
                      {"tenant_id": tenant_id, "order_id": order_id}, f"ship-{order_id}")
    publisher.close()
    return order_id


def test_dlq_api_needs_a_token(order):
    assert api.get(f"{order[0].url}/v1/dlq", headers={"Authorization": "Bearer x.y.z"},
                   timeout=5).status_code == 401
    assert api.post(f"{order[0].url}/v1/dlq/nope/redrive", timeout=5).status_code == 404


def test_poison_message_is_listed_then_redriven_and_processed(order, portal, client,
                                                              session, tenant):
    running, cfg = order
    order_id = poison(cfg, tenant[0])
    queue = wait_for(lambda: (q := dead_letters(running.url))["count"] == 1 and q)
    assert "unknown tenant" in queue["first_error"] and order_id in queue["samples"][0]["body"]
    assert dlq_gauge(running.url) == 1.0

    page = client.get("/health/dead-letters/order-d").get_data(as_text=True)
    assert f'data-queue="{QUEUE}" data-count="1"' in page
    assert "unknown tenant" in page and order_id in page
    panel = client.get("/health/services/order-d").get_data(as_text=True)
    assert 'href="/health/dead-letters/order-d"' in panel  # the live panel links here
    index = client.get("/health/dead-letters/").get_data(as_text=True)
    assert 'hx-get="/health/dead-letters/order-d"' in index
    assert client.post_form(f"/health/dead-letters/order-d/{QUEUE}/redrive").status_code \
        == 422  # not confirmed: nothing moves
    assert dead_letters(running.url)["count"] == 1

    register(running.url, tenant)  # the cause is fixed
    response = client.post_form(f"/health/dead-letters/order-d/{QUEUE}/redrive",
                                {"confirm": "yes"})
    assert response.status_code == 303
    metric = ('meridian_messages_consumed_total{outcome="ok",queue="orders.shipments",'
              'service="order"} 1.0')
    wait_for(lambda: metric in api.get(f"{running.url}/metrics", timeout=5).text)
    assert dead_letters(running.url)["count"] == 0 and dlq_gauge(running.url) == 0.0
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "health.dead_letters_redrive")).one()
    assert entry.target_id == f"order-d/{QUEUE}" and entry.details == {"count": 1}


def test_poison_message_is_discarded(order, portal, client, session, tenant):
    running, cfg = order
    poison(cfg, tenant[0])
    wait_for(lambda: dead_letters(running.url)["count"] == 1)
    response = client.post_form(f"/health/dead-letters/order-d/{QUEUE}/discard",
                                {"confirm": "yes"})
    assert response.status_code == 303
    assert dead_letters(running.url)["count"] == 0
    page = client.get("/health/dead-letters/order-d").get_data(as_text=True)
    assert f'data-queue="{QUEUE}" data-count="0"' in page
    assert session.scalars(select(AuditEntry.details).where(
        AuditEntry.action == "health.dead_letters_discard")).one() == {"count": 1}


def test_only_oncall_may_see_or_act(order, portal, client, login_as):
    login_as("developer")
    assert client.get("/health/dead-letters/").status_code == 403
    assert client.post_form(f"/health/dead-letters/order-d/{QUEUE}/discard",
                            {"confirm": "yes"}).status_code == 403
