"""Local stand-ins for the chat platforms (none of them can run here).

Each fake CHECKS the documented request before answering like the platform does: the
path and method, the auth header, and the JSON body's shape (Slack Block Kit blocks and
their limits, Mattermost interactive attachments, a Teams Workflows Adaptive Card
envelope, Discord embeds and their limits). A request that breaks a rule is recorded in
`problems` and refused the way the platform refuses it, so a test that forgets to look
still fails on the delivery state. `fail_next` makes the next N calls answer 500.
"""
from __future__ import annotations

import json
import re
import threading
from urllib.parse import parse_qs, urlsplit

from tests.httpserver import LocalHTTPServer, QuietHandler

SLACK_TOKEN = "xoxb-test-bot-token"
MATTERMOST_TOKEN = "mm-bot-token-for-tests"


class Fake:
    """What a fake received and how it should answer next."""

    def __init__(self):
        self.requests: list[dict] = []
        self.problems: list[str] = []
        self.fail_next = 0
        self.lock = threading.Lock()

    def calls(self, path_part: str) -> list[dict]:
        return [r for r in self.requests if path_part in r["path"]]


def _handler(fake: Fake, route):
    class Handler(QuietHandler):
        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            req = {"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                   "headers": dict(self.headers), "body": body}
            with fake.lock:
                fake.requests.append(req)
                failing = fake.fail_next > 0
                fake.fail_next -= 1 if failing else 0
            if failing:
                return self.reply(500, {"message": "internal error"})
            status, answer = route(fake, req)
            self.reply(status, answer)

        do_GET = do_POST = do_PUT = do_PATCH = _serve
    return Handler


def _need(fake: Fake, ok, problem: str) -> bool:
    if not ok:
        fake.problems.append(problem)
    return bool(ok)


# --- Slack Web API ----------------------------------------------------------------------

def _check_blocks(fake: Fake, blocks) -> bool:
    if not _need(fake, isinstance(blocks, list) and 0 < len(blocks) <= 50, "blocks: 1-50"):
        return False
    good = True
    for block in blocks:
        kind = block.get("type")
        good &= _need(fake, kind in ("section", "context", "actions"), f"block type {kind}")
        if kind == "section":
            text = block.get("text") or {}
            good &= _need(fake, text.get("type") in ("mrkdwn", "plain_text")
                          and 0 < len(text.get("text", "")) <= 3000, "section text")
        if kind == "context":
            good &= _need(fake, 0 < len(block.get("elements") or []) <= 10, "context elements")
        if kind == "actions":
            elements = block.get("elements") or []
            good &= _need(fake, 0 < len(elements) <= 25, "actions: 1-25 elements")
            good &= _need(fake, len(block.get("block_id", "")) <= 255, "block_id length")
            ids = [e.get("action_id") for e in elements]
            good &= _need(fake, len(set(ids)) == len(ids), "action_id unique in block")
            for e in elements:
                good &= _need(fake, e.get("type") == "button", "element type button")
                good &= _need(fake, 0 < len(e.get("action_id", "")) <= 255, "action_id")
                text = e.get("text") or {}
                good &= _need(fake, text.get("type") == "plain_text"
                              and 0 < len(text.get("text", "")) <= 75, "button text")
                good &= _need(fake, len(e.get("value", "")) <= 2000, "button value")
                good &= _need(fake, e.get("style") in (None, "primary", "danger"), "style")
    return good


def slack_route(fake: Fake, req: dict):
    method = req["path"].rsplit("/", 1)[-1]
    if req["path"].startswith("/response/"):  # a response_url
        body = req["body"] or {}
        _need(fake, body.get("response_type") == "ephemeral" and body.get("text"),
              "ephemeral response")
        return 200, {"ok": True}
    if not _need(fake, req["path"].startswith("/api/"), "Web API path"):
        return 404, {"ok": False, "error": "unknown_method"}
    if req["headers"].get("Authorization") != f"Bearer {SLACK_TOKEN}":
        fake.problems.append("bot token missing")
        return 200, {"ok": False, "error": "not_authed"}
    body = req["body"] or {}
    if req["method"] == "POST" and not _need(
            fake, req["headers"].get("Content-Type", "").startswith("application/json"),
            "JSON content type"):
        return 200, {"ok": False, "error": "invalid_form_data"}
    if method == "chat.postMessage":
        if not _need(fake, body.get("channel") and (body.get("text") or body.get("blocks")),
                     "postMessage needs channel and text/blocks"):
            return 200, {"ok": False, "error": "no_text"}
        if "blocks" in body and not _check_blocks(fake, body["blocks"]):
            return 200, {"ok": False, "error": "invalid_blocks"}
        channel = body["channel"] if body["channel"].startswith("C") else "C0TEAMCHAN"
        ts = f"1700000000.{len(fake.requests):06d}"
        return 200, {"ok": True, "channel": channel, "ts": ts,
                     "message": {"text": body.get("text", ""), "ts": ts}}
    if method == "chat.update":
        if not _need(fake, body.get("channel") and body.get("ts"), "update needs channel+ts"):
            return 200, {"ok": False, "error": "message_not_found"}
        if "blocks" in body and not _check_blocks(fake, body["blocks"]):
            return 200, {"ok": False, "error": "invalid_blocks"}
        return 200, {"ok": True, "channel": body["channel"], "ts": body["ts"]}
    if method == "users.info":
        user = (req["query"].get("user") or [""])[0]
        email = fake.people.get(user)
        if email is None:
            return 200, {"ok": False, "error": "user_not_found"}
        return 200, {"ok": True, "user": {"id": user, "name": user.lower(),
                                          "profile": {"email": email}}}
    if method == "users.lookupByEmail":
        email = (req["query"].get("email") or [""])[0]
        found = [u for u, e in fake.people.items() if e == email]
        return 200, ({"ok": True, "user": {"id": found[0]}} if found
                     else {"ok": False, "error": "users_not_found"})
    if method == "conversations.create":
        name = body.get("name", "")
        if not _need(fake, re.fullmatch(r"[a-z0-9_-]{1,80}", name), "channel name rules"):
            return 200, {"ok": False, "error": "invalid_name_specials"}
        return 200, {"ok": True, "channel": {"id": "C0INCIDENT", "name": name}}
    if method == "conversations.invite":
        _need(fake, body.get("channel") and isinstance(body.get("users"), str),
              "invite: channel and comma-separated users")
        return 200, {"ok": True, "channel": {"id": body.get("channel")}}
    fake.problems.append(f"unexpected method {method}")
    return 200, {"ok": False, "error": "unknown_method"}


# --- Mattermost REST API v4 --------------------------------------------------------------

def _check_attachments(fake: Fake, props) -> bool:
    attachments = (props or {}).get("attachments")
    if not _need(fake, isinstance(attachments, list) and attachments, "props.attachments"):
        return False
    good = True
    for att in attachments:
        good &= _need(fake, bool(att.get("fallback")), "attachment fallback")
        for action in att.get("actions", []):
            good &= _need(fake, re.fullmatch(r"[A-Za-z0-9]+", action.get("id", "")),
                          "action id: letters and digits only")
            good &= _need(fake, bool(action.get("name")), "action name")
            integration = action.get("integration") or {}
            good &= _need(fake, integration.get("url", "").startswith("http"),
                          "integration url")
            good &= _need(fake, isinstance(integration.get("context"), dict),
                          "integration context")
    return good


def mattermost_route(fake: Fake, req: dict):
    if req["headers"].get("Authorization") != f"Bearer {MATTERMOST_TOKEN}":
        fake.problems.append("bot token missing")
        return 401, {"id": "api.context.session_expired.app_error", "status_code": 401}
    path, body = req["path"], req["body"] or {}
    if req["method"] == "POST" and path == "/api/v4/posts":
        if not _need(fake, re.fullmatch(r"[a-z0-9]{26}", body.get("channel_id", "")),
                     "channel_id"):
            return 400, {"message": "Invalid channel_id"}
        if body.get("props") is not None and not _check_attachments(fake, body["props"]):
            return 400, {"message": "Invalid attachments"}
        post_id = f"post{len(fake.requests):022d}"
        return 201, {"id": post_id, "channel_id": body["channel_id"],
                     "message": body.get("message", ""), "props": body.get("props", {})}
    match = re.fullmatch(r"/api/v4/posts/([a-z0-9]{26})/patch", path)
    if req["method"] == "PUT" and match:
        if not _check_attachments(fake, body.get("props")):
            return 400, {"message": "Invalid attachments"}
        return 200, {"id": match.group(1), "props": body.get("props")}
    match = re.fullmatch(r"/api/v4/users/([a-z0-9]{26})", path)
    if req["method"] == "GET" and match:
        email = fake.people.get(match.group(1))
        return (200, {"id": match.group(1), "username": "someone", "email": email}) \
            if email else (404, {"message": "Unable to find the user."})
    fake.problems.append(f"unexpected {req['method']} {path}")
    return 404, {"message": "not found"}


# --- Microsoft Teams Workflows webhook, Discord webhook -------------------------------------

def teams_route(fake: Fake, req: dict):
    body = req["body"] or {}
    ok = _need(fake, req["method"] == "POST" and req["path"].startswith("/workflows/"), "path")
    ok &= _need(fake, body.get("type") == "message", "type message")
    attachments = body.get("attachments") or [{}]
    ok &= _need(fake, len(attachments) == 1 and attachments[0].get("contentType")
                == "application/vnd.microsoft.card.adaptive", "one adaptive card attachment")
    card = attachments[0].get("content") or {}
    ok &= _need(fake, card.get("type") == "AdaptiveCard" and card.get("version")
                and isinstance(card.get("body"), list) and card["body"], "AdaptiveCard body")
    for action in card.get("actions", []):
        ok &= _need(fake, action.get("type") == "Action.OpenUrl" and action.get("title")
                    and action.get("url", "").startswith("http"), "Action.OpenUrl")
    return (202, "") if ok else (400, {"error": {"code": "InvalidRequestContent"}})


def discord_route(fake: Fake, req: dict):
    body = req["body"] or {}
    match = re.fullmatch(r"/api/webhooks/(\d+)/([\w-]+)(/messages/(\d+))?", req["path"])
    if not _need(fake, match is not None, "webhook path"):
        return 404, {"message": "Unknown Webhook", "code": 10015}
    ok = _need(fake, body.get("allowed_mentions") == {"parse": []}, "mentions disabled")
    embeds = body.get("embeds") or []
    ok &= _need(fake, bool(body.get("content")) or 0 < len(embeds) <= 10, "content or embeds")
    for e in embeds:
        ok &= _need(fake, len(e.get("title", "")) <= 256, "embed title")
        ok &= _need(fake, len(e.get("description", "")) <= 4096, "embed description")
        ok &= _need(fake, isinstance(e.get("color", 0), int) and 0 <= e.get("color", 0)
                    <= 0xFFFFFF, "embed color")
        for f in e.get("fields", []):
            ok &= _need(fake, 0 < len(f["name"]) <= 256 and 0 < len(f["value"]) <= 1024,
                        "field")
    if not ok:
        return 400, {"message": "Invalid Form Body", "code": 50035}
    if match.group(4):
        _need(fake, req["method"] == "PATCH", "edit is PATCH")
        return 200, {"id": match.group(4), "channel_id": "1200"}
    _need(fake, req["query"].get("wait") == ["true"], "execute with wait=true")
    return 200, {"id": f"1100{len(fake.requests):06d}", "channel_id": "1200"}


def serve(route, **attrs):
    """Start a fake; yields (fake, server)."""
    fake = Fake()
    for key, value in attrs.items():
        setattr(fake, key, value)
    server = LocalHTTPServer(_handler(fake, route)).start()
    return fake, server
