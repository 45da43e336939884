"""The embedded default's object store: report files in a folder instead of S3.

Same surface as `S3Client` (ensure_bucket, upload_stream, presigned_get, read), so the
report build and download code does not know which one it has. `presigned_get` works like
S3's: it returns a bearer URL, signed with the app's secret and valid for `expires_in`
seconds, that `bp` serves without a session. The portal's own download route does the
tenant and link checks before it hands one out, exactly as it does before signing for S3.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from portal.db import utcnow
from portal.integrations.s3 import S3Unavailable, StoredObject

SALT = "folder-store-object"
bp = Blueprint("objects", __name__, url_prefix="/objects")


def _signer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


class FolderStore:
    """Objects as files under <root>/<bucket>/<key>."""

    def __init__(self, root: str | Path, *, secret_key: str):
        self.root = Path(root).resolve()
        self._secret_key = secret_key

    @classmethod
    def from_config(cls, config) -> FolderStore:
        """The store under OBJECT_STORE_DIR (object_store.from_config decides when)."""
        return cls(config["OBJECT_STORE_DIR"], secret_key=config["SECRET_KEY"])

    def path(self, bucket: str, key: str) -> Path:
        """Where an object lives; a key that would leave the store is refused."""
        path = (self.root / bucket / key).resolve()
        if not path.is_relative_to(self.root / bucket):
            raise S3Unavailable(f"object key escapes the store: {key!r}")
        return path

    def ensure_bucket(self, bucket: str) -> None:
        try:
            (self.root / bucket).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise S3Unavailable(f"object folder unusable: {exc}") from exc

    def upload_stream(self, bucket: str, key: str, chunks, *, content_type: str) -> StoredObject:
        """Write the chunks to a partial file, then move it into place: a reader never
        sees half a report, and memory holds one chunk at a time."""
        path = self.path(bucket, key)
        partial = path.with_name(path.name + ".part")
        size = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
            partial.replace(path)
        except OSError as exc:
            raise S3Unavailable(f"object folder unusable: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)  # gone once moved; a failed build leaves no scrap
        return StoredObject(key=key, size=size, parts=1)

    def presigned_get(self, bucket: str, key: str, *, expires_in: int,
                      filename: str | None = None) -> str:
        token = _signer(self._secret_key).dumps(
            {"b": bucket, "k": key, "f": filename or Path(key).name, "x": expires_in})
        return url_for("objects.get_object", token=token)

    def delete(self, bucket: str, key: str) -> None:
        """Remove one object file; one already gone is fine, as on S3."""
        try:
            self.path(bucket, key).unlink(missing_ok=True)
        except OSError as exc:
            raise S3Unavailable(f"object not removable: {exc}") from exc

    def read(self, bucket: str, key: str) -> bytes:
        try:
            return self.path(bucket, key).read_bytes()
        except OSError as exc:
            raise S3Unavailable(f"object unreadable: {exc}") from exc


@bp.get("/<token>")
def get_object(token: str):
    """Serve one object to the holder of a live signed URL (S3's pre-signed GET)."""
    config = current_app.config
    if not config.get("OBJECT_STORE_DIR"):
        abort(404)
    try:
        claims, signed_at = _signer(config["SECRET_KEY"]).loads(token, return_timestamp=True)
    except BadSignature:
        abort(404)
    if (utcnow() - signed_at).total_seconds() > claims["x"]:
        abort(403, description="This download URL has expired: download the report again "
                               "from its page.")
    store = FolderStore.from_config(config)
    try:
        path = store.path(claims["b"], claims["k"])
    except S3Unavailable:
        abort(404)
    if not path.is_file():
        abort(404)
    mimetype = mimetypes.guess_type(claims["f"])[0] or "application/octet-stream"
    response = send_file(path, mimetype=mimetype, as_attachment=True,
                         download_name=claims["f"], max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
