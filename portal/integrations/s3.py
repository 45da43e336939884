"""S3 client of the portal: streaming multipart uploads, reads and pre-signed GET URLs.

boto3 underneath, with connect/read timeouts and botocore's bounded "standard" retries.
Connection failures and 5xx after retries raise `S3Unavailable`; callers never see a
botocore exception. The endpoint comes from S3_ENDPOINT_URL (moto or MinIO locally, AWS
when unset); `object_store.from_config` picks this client or the folder store.
"""
from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

PART_SIZE = 8 * 1024 * 1024  # S3 needs >= 5 MiB for every part but the last


class S3Unavailable(RuntimeError):
    """S3 did not answer, or refused the request."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    parts: int


class S3Client:
    def __init__(self, *, endpoint_url: str | None, region: str = "us-east-1",
                 timeout: float = 10.0, attempts: int = 3):
        config = Config(signature_version="s3v4", connect_timeout=timeout,
                        read_timeout=timeout, retries={"max_attempts": attempts,
                                                       "mode": "standard"},
                        s3={"addressing_style": "path"})
        self._s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                                config=config)

    def ensure_bucket(self, bucket: str) -> None:
        """Create the bucket when it does not exist (local stacks start empty)."""
        try:
            self._s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket"}:
                raise S3Unavailable(f"S3 refused head_bucket {bucket}: {exc}") from exc
            self._call("create_bucket", Bucket=bucket)
        except BotoCoreError as exc:
            raise S3Unavailable(f"S3 unreachable: {exc}") from exc

    def upload_stream(self, bucket: str, key: str, chunks, *, content_type: str) -> StoredObject:
        """Upload an iterable of byte chunks as one object with a multipart upload.

        At most one part (PART_SIZE) is buffered, so memory stays flat whatever the size;
        a failure aborts the upload so no orphaned parts are left behind.
        """
        upload_id = self._call("create_multipart_upload", Bucket=bucket, Key=key,
                               ContentType=content_type)["UploadId"]
        parts: list[dict] = []
        buffer, size = bytearray(), 0
        try:
            for chunk in chunks:
                buffer += chunk
                size += len(chunk)
                if len(buffer) >= PART_SIZE:
                    parts.append(self._part(bucket, key, upload_id, len(parts) + 1, buffer))
                    buffer = bytearray()
            if buffer or not parts:
                parts.append(self._part(bucket, key, upload_id, len(parts) + 1, buffer))
            self._call("complete_multipart_upload", Bucket=bucket, Key=key,
                       UploadId=upload_id, MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                self._s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except (BotoCoreError, ClientError):
                pass  # the original error is the one worth reporting
            raise
        return StoredObject(key=key, size=size, parts=len(parts))

    def _part(self, bucket, key, upload_id, number: int, data: bytearray) -> dict:
        answer = self._call("upload_part", Bucket=bucket, Key=key, UploadId=upload_id,
                            PartNumber=number, Body=bytes(data))
        return {"ETag": answer["ETag"], "PartNumber": number}

    def presigned_get(self, bucket: str, key: str, *, expires_in: int,
                      filename: str | None = None) -> str:
        """A pre-signed GET URL of one object, valid for `expires_in` seconds."""
        params = {"Bucket": bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return self._call("generate_presigned_url", "get_object", Params=params,
                          ExpiresIn=expires_in)

    def delete(self, bucket: str, key: str) -> None:
        """Remove one object (S3 answers success for a key that is already gone)."""
        self._call("delete_object", Bucket=bucket, Key=key)

    def read(self, bucket: str, key: str) -> bytes:
        """The whole object (small objects and tests only)."""
        return self._call("get_object", Bucket=bucket, Key=key)["Body"].read()

    def _call(self, method: str, *args, **kwargs):
        try:
            return getattr(self._s3, method)(*args, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise S3Unavailable(f"S3 {method} failed: {exc}") from exc

