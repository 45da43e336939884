"""Settings of sign-in sessions."""
from portal.auth.oidc_settings import SETTINGS as OIDC_SETTINGS
from portal.config import Setting

SETTINGS = (
    Setting("SESSION_IDLE_MINUTES", 60, int,
            "A session unused for this many minutes ends; the user signs in again."),
    Setting("SESSION_MAX_HOURS", 12, int,
            "A session ends this many hours after sign-in, however active it is."),
    Setting("API_TOKEN_MAX_DAYS", 365, int,
            "Longest lifetime, in days, a person may give an API token."),
) + OIDC_SETTINGS
