"""Factories for API tokens: issued through the service, as the tokens page does."""
import pytest

from portal.auth import api_tokens


@pytest.fixture
def issue(session):
    """Issue a token for `owner`; returns (token row, secret)."""
    def factory(owner, scopes, *, days=30, tenant=None, name="script"):
        issued = api_tokens.create(session=session, owner=owner, name=name, scopes=list(scopes),
                                   days=days, max_days=365,
                                   tenant_id=tenant.id if tenant else None)
        session.commit()
        return issued.token, issued.secret
    return factory


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}
