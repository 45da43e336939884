"""Object storage: S3 through boto3, or a local folder for the embedded default.

Exports are written as a stream of parts (S3 multipart upload), so a large
tenant export never sits whole in memory (no OOM kills on large exports).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from platform_services.common.app import Check
from platform_services.common.config import ServiceConfig

log = logging.getLogger(__name__)
STORAGE_ERRORS = (BotoCoreError, ClientError, OSError)


class ObjectStore(Protocol):
    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None: ...

    def put_stream(self, bucket: str, key: str, parts: Iterable[bytes],
                   content_type: str) -> int: ...

    def get(self, bucket: str, key: str) -> bytes: ...

    def check(self, bucket: str) -> None: ...


class S3Store:
    """S3 (or moto / MinIO through S3_ENDPOINT_URL) with bounded retries and timeouts."""

    def __init__(self, config: ServiceConfig) -> None:
        self.client = boto3.client(
            "s3", endpoint_url=config.s3_endpoint_url, region_name=config.s3_region,
            config=BotoConfig(signature_version="s3v4", connect_timeout=5, read_timeout=30,
                              retries={"max_attempts": 3, "mode": "standard"}))

    def ensure_bucket(self, bucket: str) -> None:
        """Create the bucket if it is missing (local S3 servers start empty)."""
        try:
            self.client.head_bucket(Bucket=bucket)
        except ClientError:
            self.client.create_bucket(Bucket=bucket)

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        """Store one small object."""
        self.client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    def put_stream(self, bucket: str, key: str, parts: Iterable[bytes],
                   content_type: str) -> int:
        """Multipart upload of `parts` (each >= 5 MiB but the last); returns bytes written."""
        upload = self.client.create_multipart_upload(Bucket=bucket, Key=key,
                                                     ContentType=content_type)
        done, total = [], 0
        try:
            for number, chunk in enumerate(parts, start=1):
                etag = self.client.upload_part(Bucket=bucket, Key=key, PartNumber=number,
                                               UploadId=upload["UploadId"], Body=chunk)["ETag"]
                done.append({"ETag": etag, "PartNumber": number})
                total += len(chunk)
            if not done:  # S3 refuses a multipart upload of zero parts
                done.append({"ETag": self.client.upload_part(
                    Bucket=bucket, Key=key, PartNumber=1, UploadId=upload["UploadId"],
                    Body=b"")["ETag"], "PartNumber": 1})
            self.client.complete_multipart_upload(Bucket=bucket, Key=key,
                                                  UploadId=upload["UploadId"],
                                                  MultipartUpload={"Parts": done})
        except BaseException:
            self.client.abort_multipart_upload(Bucket=bucket, Key=key,
                                               UploadId=upload["UploadId"])
            raise
        return total

    def get(self, bucket: str, key: str) -> bytes:
        """Read a whole object (labels; tests)."""
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def check(self, bucket: str) -> None:
        """Readiness: the bucket is reachable."""
        self.client.head_bucket(Bucket=bucket)


class FolderStore:
    """Objects as files under OBJECT_STORE_DIR/<bucket>/<key> (no S3 server needed)."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def _path(self, bucket: str, key: str) -> Path:
        path = (self.root / bucket / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"object key escapes the store: {key!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def ensure_bucket(self, bucket: str) -> None:
        """Create the bucket's folder."""
        (self.root / bucket).mkdir(parents=True, exist_ok=True)

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        """Write one object."""
        self._path(bucket, key).write_bytes(body)

    def put_stream(self, bucket: str, key: str, parts: Iterable[bytes],
                   content_type: str) -> int:
        """Append parts to a temporary file, then move it into place."""
        path, total = self._path(bucket, key), 0
        partial = path.with_name(path.name + ".part")
        with partial.open("wb") as out:
            for chunk in parts:
                out.write(chunk)
                total += len(chunk)
        partial.replace(path)
        return total

    def get(self, bucket: str, key: str) -> bytes:
        """Read one object."""
        return self._path(bucket, key).read_bytes()

    def check(self, bucket: str) -> None:
        """Readiness: the folder is there."""
        if not (self.root / bucket).is_dir():
            raise OSError(f"missing folder for bucket {bucket}")


def make_store(config: ServiceConfig) -> S3Store | FolderStore:
    """The folder store when OBJECT_STORE_DIR is set, S3 otherwise."""
    if config.object_store_dir:
        return FolderStore(config.object_store_dir)
    return S3Store(config)


def ensure_bucket_quietly(store: S3Store | FolderStore, bucket: str) -> None:
    """Create the bucket at start-up; an unreachable S3 only degrades the service."""
    try:
        store.ensure_bucket(bucket)
    except STORAGE_ERRORS as exc:
        log.warning("bucket %s not ensured (S3 unreachable?): %s", bucket, exc)


def storage_check(store: S3Store | FolderStore, bucket: str) -> Check:
    """Degradable: without storage, labels and exports wait and are retried."""
    def probe() -> None:
        store.check(bucket)
    return Check("s3", probe, critical=False)
