""""Send me a test page": one message over each channel of a person's rules, right now,
with each channel's outcome, so a wrong number or a dead provider shows up before a real
page depends on it. Nothing is queued: the result is the answer to the click."""
from __future__ import annotations

from dataclasses import dataclass

from portal.auth.models import User
from portal.oncall import notify
from portal.oncall.rule_forms import CHANNEL_LABELS
from portal.oncall.rule_models import RULE_KINDS
from portal.oncall.rule_service import PHONE_CHANNELS, Plan

CHANNEL_FOR = {v: k for k, v in notify.RULE_TO_CHANNEL.items()}  # notification -> rule channel


@dataclass(frozen=True)
class TrialResult:
    channel: str  # a rule channel: email, sms, voice, chat
    ok: bool
    detail: str

    @property
    def label(self) -> str:
        return CHANNEL_LABELS[self.channel]


def channels_to_try(plan: Plan, channels: notify.Channels) -> list[str]:
    """The distinct channels of both rule lists in order; without rules, the channels the
    person gets today (every configured one)."""
    wanted = [rule.channel for kind in RULE_KINDS for rule in plan.rules[kind]]
    if not wanted:
        wanted = [CHANNEL_FOR[name] for name in channels.names]
    return list(dict.fromkeys(wanted))


def send_test(*, user: User, plan: Plan, channels: notify.Channels) -> list[TrialResult]:
    """Send one test message per channel and say how each went."""
    payload = {"text": f"Test page for {user.name} from the Meridian portal: this channel "
                       "reaches you. No action is needed.",
               "subject": "[TEST] Meridian test page", "to": user.email,
               "spoken": "This is a test page from the Meridian portal. It reaches you. "
                         "No action is needed.", "phone": plan.phone}
    return [_try(channel, payload, plan, channels) for channel in channels_to_try(plan, channels)]


def _try(channel: str, payload: dict, plan: Plan, channels: notify.Channels) -> TrialResult:
    carrier = notify.RULE_TO_CHANNEL[channel]
    if carrier not in channels.names:
        why = (channels.phone_problem if channel in PHONE_CHANNELS else None) or \
            "this channel is not configured on the portal; an admin sets it up"
        return TrialResult(channel, False, why)
    if channel in PHONE_CHANNELS and not plan.phone:
        return TrialResult(channel, False, "no phone number is saved: enter it under How to "
                                       "reach you and save")
    try:
        ref = notify.send(carrier, payload, channels)
    except notify.delivery_errors() as exc:
        return TrialResult(channel, False, f"{type(exc).__name__}: {exc}"[:300])
    # Say where it went (the badge already says "sent"): a typo in the number shows here.
    where = plan.phone if channel in PHONE_CHANNELS else \
        payload["to"] if channel == "email" else None
    parts = ([f"to {where}"] if where else []) + ([f"provider id {ref}"] if ref else [])
    return TrialResult(channel, True, ", ".join(parts))
