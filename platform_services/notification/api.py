"""The notification service: templates, tenant contacts, sends over HTTP and from RabbitMQ."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from platform_services.common import (
    addresses,
    dlq,
    openapi,
    outbound,
    secrets_check,
    security_events,
)
from platform_services.common import settings as service_settings
from platform_services.common import tenants as tenant_registry
from platform_services.common.app import ApiError, create_service_app, json_body
from platform_services.common.base import (
    Foundation,
    broker_check,
    count_api_usage,
    foundation,
    require_tokens,
)
from platform_services.common.config import ServiceConfig
from platform_services.common.jwt_auth import REGISTRY_SCOPES, Policy
from platform_services.common.messaging import Consumer, Delivery, Subscription
from platform_services.common.resources import postgres_check, redis_check
from platform_services.common.runner import PerProcess, Service
from platform_services.common.schemas import parse, parse_query
from platform_services.notification import service
from platform_services.notification.limits import Limits
from platform_services.notification.models import contacts, notifications, tenants
from platform_services.notification.schemas import (
    OPERATIONS,
    NotificationLog,
    NotificationRequest,
    TemplateBody,
)
from platform_services.notification.settings import NotificationSettings

STATUS_CODES = {"sent": 201, "duplicate": 200, "rate_limited": 429}
FAILURE_CODES = {"template_error": 422, "delivery_failed": 502}


def _contact(data: dict, base: Foundation, allowlist: tuple[str, ...]) -> dict:
    email, url = data.get("email"), data.get("webhook_url")
    errors = {}
    if email is not None and not addresses.is_email(email):
        errors["email"] = "an e-mail address"
    if url is not None and (not isinstance(url, str) or not service.URL.match(url)):
        errors["webhook_url"] = "an http(s) URL"
    elif url is not None and not service.webhook_allowed(url, allowlist):
        errors["webhook_url"] = outbound.REFUSED
        security_events.record(base.metrics, "outbound_refused")
    if errors:
        raise ApiError(422, "invalid", "invalid contact", errors)
    return {"email": email, "webhook_url": url}


def _routes(base: Foundation, notifier: service.Notifier) -> Blueprint:
    bp = Blueprint("notification", __name__)
    engine = base.engine

    def tenant_id(ref: str) -> int:
        with engine.connect() as conn:
            return tenant_registry.resolve(conn, tenants, ref)

    @bp.put("/v1/tenants/<tenant>/templates/<name>")
    def put_template(tenant: str, name: str):
        template = parse(TemplateBody, json_body(), "invalid template")
        tid = tenant_id(tenant)
        with engine.begin() as conn:
            service.save_template(conn, tenant_id=tid, name=name, data=template.model_dump())
        return jsonify({"name": name, "saved": True})

    @bp.put("/v1/tenants/<tenant>/contact")
    def put_contact(tenant: str):
        values = _contact(json_body(), base, notifier.settings.outbound_allowed_hosts)
        tid = tenant_id(tenant)
        with engine.begin() as conn:
            conn.execute(insert(contacts).values(tenant_id=tid, **values).on_conflict_do_update(
                index_elements=[contacts.c.tenant_id], set_=values))
        return jsonify(values)

    @bp.post("/v1/tenants/<tenant>/notifications")
    def send(tenant: str):
        body = parse(NotificationRequest, json_body(), "invalid notification")
        # parse_request adds what one field cannot say: the recipient fits the channel.
        req = service.parse_request(body.model_dump(exclude_unset=True))
        result = notifier.send(tenant_id=tenant_id(tenant), req=req)
        code = STATUS_CODES.get(result["status"]) or FAILURE_CODES[result["error"]]
        return jsonify(result), code

    @bp.get("/v1/tenants/<tenant>/notifications")
    def log(tenant: str):
        tid = tenant_id(tenant)
        status = parse_query(NotificationLog, "invalid filter").status
        query = select(notifications).where(notifications.c.tenant_id == tid)
        if status:
            query = query.where(notifications.c.status == status)
        with engine.connect() as conn:
            rows = conn.execute(query.order_by(notifications.c.created_at.desc()).limit(100))
            return jsonify({"notifications": [
                {"id": r.id, "channel": r.channel, "template": r.template,
                 "recipient": r.recipient, "status": r.status, "relay": r.relay,
                 "error": r.error, "created_at": r.created_at.isoformat()} for r in rows]})

    return bp


def event_handler(base: Foundation, notifier: service.Notifier):
    """Sends for `notify.*` events (a request in the payload) and `export.ready` (the
    worker's finished exports, to the tenant's contact). A redelivered message is a
    duplicate by its dedupe key (the message id when the payload names none), and a
    failed delivery releases the key, so the retry really sends."""
    def handle(delivery: Delivery) -> None:
        payload = delivery.payload
        if delivery.routing_key == "export.ready":
            payload = {"template": "export_ready", "channel": "email",
                       "dedupe_key": f"export-ready:{payload['job_id']}",
                       "tenant_id": payload["tenant_id"],
                       "data": {k: payload[k] for k in ("job_id", "bucket", "key")}}
        payload = {"dedupe_key": f"msg:{delivery.message_id}"[:200], **payload}
        req = service.parse_request({k: v for k, v in payload.items() if k != "tenant_id"})
        result = notifier.send(tenant_id=int(payload["tenant_id"]), req=req)
        if result.get("error") == "delivery_failed":
            raise RuntimeError(result["message"])  # retried with back-off, then the DLQ
    return handle


POLICY = Policy("notifications", {**REGISTRY_SCOPES, **dlq.SCOPES})


def build(config: ServiceConfig, *, log: bool = True,
          settings: NotificationSettings | None = None) -> Service:
    """The notification service and its consumer of the `notifications` exchange."""
    settings = settings or service_settings.load(NotificationSettings)
    secrets_check.require_safe(config, settings)
    base = foundation(config, log=log)
    limits = Limits(base.redis, config.redis_prefix, settings.rate_per_minute,
                    settings.dedupe_seconds)
    notifier = service.Notifier(base.engine, limits, settings, base.metrics)
    workers = []
    if config.rabbitmq_url:
        workers.append(Consumer(config, base.metrics, Subscription(
            "notification.events", "notifications", ("notify.#", "export.ready"),
            event_handler(base, notifier))))
    checks = [postgres_check(base.engine),
              broker_check(config, [w.connected for w in workers],
                           "sends over HTTP only; events wait in the senders' outboxes"),
              redis_check(base.redis, "dedupe and rate limits from the notification log")]
    app = create_service_app(config.service, base.metrics, checks)
    require_tokens(base, app, POLICY, tenants)
    openapi.install(app, "notification", OPERATIONS)
    dlq.register(app, config, base.metrics, workers)
    app.register_blueprint(tenant_registry.blueprint(base.engine, tenants))
    app.register_blueprint(_routes(base, notifier))
    return Service(config.service, app,
                   [*workers, PerProcess(count_api_usage(base, app, tenants))], [base.engine],
                   [base.redis.close] if base.redis else [])
