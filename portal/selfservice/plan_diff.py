"""What a Terraform plan changes, attribute by attribute, for the people who review it.

Reads `terraform show -json` of a saved plan (Terraform's JSON plan format):
`resource_changes[].change` carries `before`/`after` values, `after_unknown` (values
known only after apply) and `before_sensitive`/`after_sensitive` (values never to be
shown), each a structure mirroring the value. The review keeps, per resource, every
changed attribute as old → new with unknown values as "(known after apply)" and
sensitive ones masked, so no secret ever reaches the job row, and the cost tags the
resource will carry, flagging those that lack a required one.
"""
from __future__ import annotations

import json

# The cost tags the request policy and the cost_tags plan policy require (kept equal to
# portal.selfservice.policy.REQUIRED_TAGS, which imports the engines that import this).
REQUIRED_TAGS = ("owner", "team", "cost-center", "environment")
UNKNOWN = "(known after apply)"
SENSITIVE = "(sensitive)"
MAX_ATTRIBUTES = 120  # per resource; a review is read by a person, not a machine
MAX_VALUE = 300  # characters of one rendered value
MIN_SECRET = 4  # shorter sensitive strings ("true", "1") would mask half the plan
_HIDDEN = object()  # a sensitive leaf: compared for change, never rendered


def review(plan: dict, *, required_tags: tuple[str, ...] = REQUIRED_TAGS) -> dict:
    """The reviewable diff of a plan: changed resources, drift found while planning, tags."""
    secrets = sensitive_values(plan)
    resources = [resource_diff(rc, required_tags=required_tags, secrets=secrets)
                 for rc in plan.get("resource_changes") or []
                 if _action(rc["change"]["actions"]) not in ("no-op", "read")]
    drift = [resource_diff(rc, required_tags=(), secrets=secrets)
             for rc in plan.get("resource_drift") or []]
    return {"resources": resources, "drift": drift,
            "required_tags": list(required_tags),
            "untagged": [r["address"] for r in resources if r["missing_tags"]]}


def sensitive_values(plan: dict) -> frozenset[str]:
    """Every string the plan marks sensitive anywhere: variables and resource values.

    Terraform marks a value sensitive where it is set, but not always where it is copied
    (terraform_data's `output` repeats its `input` unmarked), so the review masks a
    secret wherever it appears.
    """
    found: set[str] = set()
    declared = ((plan.get("configuration") or {}).get("root_module") or {}).get("variables")
    for name, spec in (declared or {}).items():
        value = ((plan.get("variables") or {}).get(name) or {}).get("value")
        if isinstance(spec, dict) and spec.get("sensitive"):
            _collect(value, True, found)
    for rc in [*(plan.get("resource_changes") or []), *(plan.get("resource_drift") or [])]:
        change = rc.get("change") or {}
        _collect(change.get("before"), change.get("before_sensitive"), found)
        _collect(change.get("after"), change.get("after_sensitive"), found)
    return frozenset(v for v in found if len(v) >= MIN_SECRET)


def _collect(value, sensitive, found: set[str]) -> None:
    if sensitive is True:
        if isinstance(value, dict | list):
            for item in (value.values() if isinstance(value, dict) else value):
                _collect(item, True, found)
        elif value is not None:
            found.add(value if isinstance(value, str) else json.dumps(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(item, _child(sensitive, key), found)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _collect(item, _child(sensitive, i), found)


def resource_diff(rc: dict, *, required_tags: tuple[str, ...] = REQUIRED_TAGS,
                  secrets: frozenset[str] = frozenset()) -> dict:
    """One resource change: its action, changed attributes (old → new) and cost tags."""
    change = rc["change"]
    action = _action(change["actions"])
    # Where the new value is unknown, the old one is shown whole, not leaf by leaf.
    before = _masked_leaves(_flatten(change.get("before"), change.get("before_sensitive"),
                                     collapse=change.get("after_unknown")), secrets)
    after = _masked_leaves(_flatten(change.get("after"), change.get("after_sensitive"),
                                    change.get("after_unknown")), secrets)
    forced = [".".join(map(str, p)) for p in change.get("replace_paths") or []]
    attributes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if old is None and new is not None and new[1] is None and action == "create":
            continue  # an unset optional attribute of a new resource: noise
        attributes.append({"path": path, "old": _shown(old), "new": _shown(new),
                           "forces_replacement": any(path == f or path.startswith(f + ".")
                                                     for f in forced)})
    tags = _tags(rc, secrets) if action in ("create", "update", "replace") else None
    missing = ([key for key in required_tags if not (tags or {}).get(key)]
               if tags is not None and required_tags else [])
    return {"address": rc["address"], "action": action, "type": rc.get("type"),
            "attributes": attributes[:MAX_ATTRIBUTES],
            "more_attributes": max(len(attributes) - MAX_ATTRIBUTES, 0),
            "tags": tags, "missing_tags": missing}


def _masked_leaves(leaves: dict[str, tuple], secrets: frozenset[str]) -> dict[str, tuple]:
    if not secrets:
        return leaves
    return {path: (SENSITIVE, _HIDDEN, _fingerprint(leaf[1]))
            if leaf[1] is not _HIDDEN and any(s in leaf[0] for s in secrets) else leaf
            for path, leaf in leaves.items()}


def _action(actions: list[str]) -> str:
    if sorted(actions) == ["create", "delete"]:
        return "replace"
    return actions[0] if len(actions) == 1 else "+".join(actions)


def _flatten(value, sensitive=None, unknown=None, path: str = "",
             collapse=None) -> dict[str, tuple]:
    """path -> (rendered, raw) for each leaf; masked, unknown and collapsed leaves stop
    the walk."""
    if sensitive is True:
        return {path: (SENSITIVE, _HIDDEN, _fingerprint(value))}
    if unknown is True:
        return {path: (UNKNOWN, UNKNOWN)}
    if collapse is True and path and not _has_sensitive(sensitive):
        return {} if value is None else {path: (_render(value), value)}
    out: dict[str, tuple] = {}
    if isinstance(value, dict) or isinstance(unknown, dict):
        value = value if isinstance(value, dict) else {}
        keys = set(value) | set(unknown if isinstance(unknown, dict) else {})
        if not keys and path:
            return {path: ("{}", {})}
        for key in keys:
            out.update(_flatten(value.get(key), _child(sensitive, key), _child(unknown, key),
                                f"{path}.{key}" if path else str(key), _child(collapse, key)))
        return out
    if isinstance(value, list) or isinstance(unknown, list):
        value = value if isinstance(value, list) else []
        size = max(len(value), len(unknown) if isinstance(unknown, list) else 0)
        if not size and path:
            return {path: ("[]", [])}
        for i in range(size):
            out.update(_flatten(value[i] if i < len(value) else None, _child(sensitive, i),
                                _child(unknown, i), f"{path}[{i}]", _child(collapse, i)))
        return out
    if not path:
        return {} if value is None else {"(value)": (_render(value), value)}
    return {path: (_render(value), value)}


def _has_sensitive(mark) -> bool:
    if mark is True:
        return True
    items = mark.values() if isinstance(mark, dict) else mark if isinstance(mark, list) else ()
    return any(_has_sensitive(m) for m in items)


def _child(mark, key):
    if isinstance(mark, dict):
        return mark.get(key)
    if isinstance(mark, list) and isinstance(key, int) and key < len(mark):
        return mark[key]
    return None


def _fingerprint(value) -> int:
    # Lets a sensitive attribute count as changed without keeping its value.
    return hash(json.dumps(value, sort_keys=True, default=str))


def _render(value) -> str:
    text = value if isinstance(value, str) and value == "" else json.dumps(
        value, ensure_ascii=False, sort_keys=True, default=str)
    text = text if text != "" else '""'
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 1] + "…"


def _shown(leaf: tuple | None) -> str | None:
    return None if leaf is None else leaf[0]


def _tags(rc: dict, secrets: frozenset[str] = frozenset()) -> dict[str, str] | None:
    """The tags the resource will carry (as the plan policies read them), sensitive masked."""
    change = rc["change"]
    after = _masked(change.get("after") or {}, change.get("after_sensitive"), secrets)
    if not isinstance(after, dict):
        return None
    if rc.get("type") == "terraform_data":
        found = (after.get("input") or {}).get("tags") if isinstance(after.get("input"),
                                                                     dict) else None
        return _as_tags(found) if found is not None else {}
    if not any(key in after for key in ("tags", "tags_all", "labels")):
        return None  # a resource that takes no tags
    return {**_as_tags(after.get("labels")), **_as_tags(after.get("tags_all")),
            **_as_tags(after.get("tags"))}


def _as_tags(value) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else _render(v) for k, v in value.items()}


def _masked(value, sensitive, secrets: frozenset[str]):
    if sensitive is True or (isinstance(value, str) and any(s in value for s in secrets)):
        return SENSITIVE
    if isinstance(value, dict):
        return {k: _masked(v, _child(sensitive, k), secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, _child(sensitive, i), secrets) for i, v in enumerate(value)]
    return value
