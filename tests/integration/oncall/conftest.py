import pytest

from tests.integration.oncall.amserver import running_alertmanager


@pytest.fixture(scope="session")
def alertmanager_url(tmp_path_factory):
    """Base URL of a real Alertmanager started for this test session."""
    with running_alertmanager(tmp_path_factory.mktemp("alertmanager")) as url:
        yield url
