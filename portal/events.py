"""Signals between domains (blinker, which Flask already uses).

A domain that makes something happen sends a signal; a domain that cares connects a
receiver in its `receivers` module. Senders never import receivers, so the dependency
direction stays one-way. Every signal passes the SQLAlchemy `session` so receivers write
in the same transaction as the sender.
"""
from blinker import Namespace

_signals = Namespace()

# A service's timeline got an entry (deploy, job step, policy change, ...).
# kwargs: session, event (portal.catalog.models.ServiceEvent)
service_event = _signals.signal("service-event")

# Alertmanager sent alerts (firing or resolved), already validated, deduplicated and stored
# (on-call's `oncall_alerts`, the only copy): one signal per delivery, with the new or
# changed alerts only, so receivers can handle a whole batch in a few statements.
# kwargs: session, alerts (list of dicts: fingerprint, status 'firing'|'resolved', labels,
#         annotations, starts_at, ends_at (datetimes), severity (str|None), service (slug|None),
#         previous_status ('firing'|'resolved'|None when new), incident_id (int|None: the
#         incident the stored alert is linked to))
alert_received = _signals.signal("alert-received")

# An incident was opened (by hand, from an alert, or from a service page).
# kwargs: session, incident_id, severity ('sev1'..'sev4'), title, service_slugs (list[str]),
#         alert_labels (dict: the labels of the alert that opened it; {} when declared)
incident_opened = _signals.signal("incident-opened")

# An incident moved through its lifecycle (acknowledged, mitigated, resolved, reopened).
# kwargs: session, incident_id, previous (status), status, actor_email (str|None: None when
#         the portal moved it by itself), at (datetime)
incident_status_changed = _signals.signal("incident-status-changed")

# A page was sent, acknowledged, escalated or resolved.
# kwargs: session, incident_id (int|None), kind ('sent'|'acked'|'escalated'|'resolved'),
#         user_email (str|None), summary (str), at (datetime)
page_event = _signals.signal("page-event")

# An Alertmanager silence was created or expired through the portal.
# kwargs: session, silence_id, action ('created'|'expired'), actor_email, matchers (list),
#         comment, incident_id (int|None)
silence_changed = _signals.signal("silence-changed")

# The readiness scorecard asks the other domains what they know of a catalog entry.
# kwargs: session, service (portal.catalog.models.Service). A receiver returns a dict of
# facts: {"slos": [names of the entry's SLOs]} (slo), {"oncall": None | {"schedule": name,
# "people": int}} (oncall: the owning team's schedule and its primary rotation).
readiness_facts = _signals.signal("readiness-facts")

# A person lost their account through provisioning (SCIM active:false or delete): their
# sessions and API tokens already ended; receivers deal with what they still hold.
# kwargs: session, user_id, email, name, at (datetime)
person_deprovisioned = _signals.signal("person-deprovisioned")

# A phone provider reported the delivery status of an SMS or call the portal placed
# (its signature already verified; see portal/integrations/phone_status.py).
# kwargs: session, kind ('sms'|'call'), sid (the provider's SID, as send_sms/call returned),
#         status (the provider's word: queued, sent, delivered, undelivered, failed, ringing,
#         completed, busy, no-answer, ...), error_code (int|None), provider ('primary'|'backup')
phone_status = _signals.signal("phone-status")
