"""Settings of the catalog domain: where secret metadata and its rotation policy come from,
and how large a vulnerability report may be."""
from portal.config import PROJECT_ROOT, Setting, parse_optional

SETTINGS = (
    Setting("VAULT_ADDR", None, parse_optional,
            "Vault (or OpenBao) address for secret rotation ages, read from KV v2 metadata "
            "only. Unset: the secret rotation pages and readiness check say Vault is not "
            "connected."),
    Setting("VAULT_TOKEN", None, parse_optional,
            "Token the portal reads KV v2 metadata with (a policy granting `list` and `read` "
            "on `<mount>/metadata/*` is enough). Unset: AppRole below."),
    Setting("VAULT_ROLE_ID", None, parse_optional,
            "AppRole role id, used with VAULT_SECRET_ID when VAULT_TOKEN is unset."),
    Setting("VAULT_SECRET_ID", None, parse_optional, "AppRole secret id of VAULT_ROLE_ID."),
    Setting("VAULT_KV_MOUNT", "secret", str, "Mount point of the KV version 2 engine."),
    Setting("VAULT_TIMEOUT", 5.0, float, "Seconds before a Vault call is given up."),
    Setting("SECRET_ROTATION_FILE", str(PROJECT_ROOT / "infra" / "vault" / "secret-rotation.yaml"),
            str, "Which service owns which KV v2 path and the maximum age per path pattern."),
    Setting("VULNERABILITY_REPORT_MAX_BYTES", 5 * 1024 * 1024, int,
            "Largest Trivy JSON report CI may upload, in bytes (larger ones get 413)."),
)
