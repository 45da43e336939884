"""The one place that picks the portal's object store from its settings.

Every caller gets its store here; s3.py and folder_store.py import nothing of each other
but the shared error and result types (s3.S3Unavailable, s3.StoredObject). The services
have their own factory (platform_services/common/storage.make_store): they ship without
the portal.
"""
from __future__ import annotations

from portal.integrations.folder_store import FolderStore
from portal.integrations.s3 import S3Client


def from_config(config) -> S3Client | FolderStore:
    """A folder when OBJECT_STORE_DIR is set (the embedded default), S3 otherwise; both
    answer the same calls (put/read/url/delete) and raise S3Unavailable alike."""
    if config.get("OBJECT_STORE_DIR"):
        return FolderStore.from_config(config)
    return S3Client(endpoint_url=config.get("S3_ENDPOINT_URL"),
                    region=config.get("S3_REGION", "us-east-1"))
