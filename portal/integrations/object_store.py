"""The one place that picks the portal's object store from its settings."""
from __future__ import annotations

from portal.integrations.folder_store import FolderStore
from portal.integrations.s3 import S3Client


def from_config(config) -> S3Client | FolderStore:
    """A folder when OBJECT_STORE_DIR is set (the embedded default), S3 otherwise; both
    answer the same calls (put/read/url/delete) and raise S3Unavailable alike."""
    if config.get("OBJECT_STORE_DIR"):
        return FolderStore(config["OBJECT_STORE_DIR"], secret_key=config["SECRET_KEY"])
    return S3Client(endpoint_url=config.get("S3_ENDPOINT_URL"),
                    region=config.get("S3_REGION", "us-east-1"))
