"""Claims to identity, the group map setting, and what production refuses (no servers)."""
from __future__ import annotations

import pytest

from portal import config as portal_config
from portal.auth import oidc
from portal.auth.claims import ClaimsRefused, GroupMapping, identity, parse_group_map
from portal.security.production import InsecureConfiguration, problems

MAPPING = GroupMapping(targets=parse_group_map(
    "sre=oncall, eng-leads=manager, sre=team:platform, payments-eng=team:payments"))


def _claims(**overrides) -> dict:
    return {"sub": "u-1", "email": "Pat@Corp.Example", "email_verified": True,
            "name": "Pat", "groups": ["sre"], **overrides}


def test_groups_become_roles_teams_and_a_tenant():
    person = identity(_claims(groups=["sre", "eng-leads", "payments-eng", "team:data"]),
                      groups_claim="groups", mapping=MAPPING)
    assert person.roles == ("oncall", "manager") and person.tenant_slug is None
    assert person.team_slugs == ("data", "payments", "platform")
    assert person.email == "pat@corp.example"
    viewer = identity(_claims(groups=["tenant:acme-retail"]), groups_claim="groups",
                      mapping=MAPPING)
    assert viewer.roles == ("tenant_viewer",) and viewer.tenant_slug == "acme-retail"


def test_another_groups_claim_and_prefixes_can_be_configured():
    mapping = GroupMapping(targets=(("ops", "oncall"),), tenant_prefix="", team_prefix="squad-")
    person = identity(_claims(roles_at_idp=["ops", "squad-data", "tenant:x"], groups=["x"]),
                      groups_claim="roles_at_idp", mapping=mapping)
    assert person.roles == ("oncall",) and person.team_slugs == ("data",)


@pytest.mark.parametrize("claims,reason", [
    (_claims(email_verified=False), "email_unverified"),
    (_claims(email_verified="true"), "email_unverified"),  # a string is not a verification
    ({k: v for k, v in _claims().items() if k != "email_verified"}, "email_unverified"),
    (_claims(email=None), "no_email"),
    (_claims(email="pat\x00@corp.example"), "no_email"),
    (_claims(groups=[]), "no_role"),
    (_claims(groups=["tenant:a", "tenant:b"]), "ambiguous_groups"),
    (_claims(groups=["sre", "tenant:a"]), "ambiguous_groups"),
    (_claims(groups={"sre": True}), "bad_groups"),
    (_claims(groups=["g"] * 501), "bad_groups"),
])
def test_claims_that_cannot_become_an_identity_are_refused(claims, reason):
    with pytest.raises(ClaimsRefused) as refused:
        identity(claims, groups_claim="groups", mapping=MAPPING)
    assert refused.value.reason == reason


def test_hostile_group_names_are_dropped_not_mapped():
    person = identity(_claims(groups=["sre", "team:\x00x", "team:" + "y" * 300, 7, None]),
                      groups_claim="groups", mapping=MAPPING)
    assert person.groups == ("sre",)


@pytest.mark.parametrize("value", ["sre", "sre=root", "=oncall", "x=tenant:", "x=tenant_viewer"])
def test_a_bad_group_map_stops_the_start(value):
    with pytest.raises(ValueError, match="OIDC_GROUP_MAP"):
        portal_config.from_env({"OIDC_GROUP_MAP": value, "SECRET_KEY": "k" * 40})


def test_local_password_modes_are_checked():
    with pytest.raises(ValueError, match="AUTH_LOCAL_PASSWORDS"):
        portal_config.from_env({"AUTH_LOCAL_PASSWORDS": "some", "SECRET_KEY": "k" * 40})


def test_production_refuses_a_weak_or_plain_text_sso_setup():
    config = {"PORTAL_ENV": "production", "OIDC_ISSUER": "http://idp.corp.example",
              "OIDC_CLIENT_ID": "portal", "OIDC_CLIENT_SECRET": None}
    with pytest.raises(InsecureConfiguration, match="https.*OIDC_CLIENT_SECRET is unset"):
        oidc.check_production(config)
    oidc.check_production({**config, "OIDC_ISSUER": "https://idp.corp.example",
                           "OIDC_CLIENT_SECRET": "a-long-random-client-secret"})
    weak = problems({"SECRET_KEY": "k" * 40, "OIDC_CLIENT_SECRET": "changeme"}, environ={})
    assert "OIDC_CLIENT_SECRET is a known default" in weak
