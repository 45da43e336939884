"""Catalog fixtures: the seeded Meridian catalog inside the test's rolled-back transaction."""
from pathlib import Path

import pytest

from portal.catalog import demo
from portal.catalog import service as catalog
from portal.demo.seed import seed_catalog

CHARTS = Path(__file__).parent / "charts"


@pytest.fixture
def seeded(session):
    """Teams, every catalog entry with its facts and dependencies, runbooks, first scores."""
    seed_catalog(session=session)
    demo.seed(session=session)
    session.commit()
    return session


@pytest.fixture
def order(seeded):
    return catalog.get_service(session=seeded, slug="order")
