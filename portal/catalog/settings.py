"""Settings of the catalog domain: where secret metadata and its rotation policy come from,
and how large a vulnerability report may be."""
from pydantic import Field

from portal.config import PROJECT_ROOT, EnvSettings, OptionalText


class CatalogSettings(EnvSettings):
    """Vault, the secret rotation policy and vulnerability reports."""
    VAULT_ADDR: OptionalText = Field(None, description=(
        "Vault (or OpenBao) address for secret rotation ages, read from KV v2 metadata only. "
        "Unset: the secret rotation pages and readiness check say Vault is not connected."))
    VAULT_TOKEN: OptionalText = Field(None, description=(
        "Token the portal reads KV v2 metadata with (a policy granting `list` and `read` on "
        "`<mount>/metadata/*` is enough). Unset: AppRole below."))
    VAULT_ROLE_ID: OptionalText = Field(None, description=(
        "AppRole role id, used with VAULT_SECRET_ID when VAULT_TOKEN is unset."))
    VAULT_SECRET_ID: OptionalText = Field(None, description="AppRole secret id of VAULT_ROLE_ID.")
    VAULT_KV_MOUNT: str = Field("secret", description="Mount point of the KV version 2 engine.")
    VAULT_TIMEOUT: float = Field(5.0, description="Seconds before a Vault call is given up.")
    SECRET_ROTATION_FILE: str = Field(
        str(PROJECT_ROOT / "infra" / "vault" / "secret-rotation.yaml"), description=(
            "Which service owns which KV v2 path and the maximum age per path pattern."))
    VULNERABILITY_REPORT_MAX_BYTES: int = Field(5 * 1024 * 1024, description=(
        "Largest Trivy JSON report CI may upload, in bytes (larger ones get 413)."))


SETTINGS = (CatalogSettings,)
