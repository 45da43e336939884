"""Settings of sign-in sessions."""
from pydantic import Field

from portal.auth.oidc_settings import OidcSettings
from portal.config import EnvSettings


class SessionSettings(EnvSettings):
    """Sessions and API tokens."""
    SESSION_IDLE_MINUTES: int = Field(60, description=(
        "A session unused for this many minutes ends; the user signs in again."))
    SESSION_MAX_HOURS: int = Field(12, description=(
        "A session ends this many hours after sign-in, however active it is."))
    API_TOKEN_MAX_DAYS: int = Field(365, description=(
        "Longest lifetime, in days, a person may give an API token."))


SETTINGS = (SessionSettings, OidcSettings)
