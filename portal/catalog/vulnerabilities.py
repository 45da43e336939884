"""Image vulnerabilities from Trivy JSON reports uploaded by CI, per service image.

A report follows Trivy's JSON output (SchemaVersion 2): ArtifactName, Metadata (RepoTags,
RepoDigests, ImageConfig) and Results[] of Target/Class/Type with Vulnerabilities[]
(VulnerabilityID, PkgName, InstalledVersion, FixedVersion, Severity, Title, PrimaryURL).
Fields this module does not use are ignored, so newer Trivy versions keep uploading. One
report is kept per image (service + tag, or digest): a new upload replaces the old one.
A critical finding in the image a prod deploy would ship refuses that deploy unless a
manager's override is in force (`deploy_block_reason`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, overload

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from portal.catalog.models import Service
from portal.catalog.vulnerability_models import (
    SEVERITIES,
    VulnerabilityFinding,
    VulnerabilityReport,
)
from portal.db import utcnow

MAX_FINDINGS = 20_000
SHOWN = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


class ReportError(ValueError):
    """The uploaded document is not a Trivy JSON report this portal can store."""


@dataclass(frozen=True)
class ImageName:
    repository: str
    tag: str | None
    digest: str | None

    @property
    def ref(self) -> str:
        return self.tag or self.digest or ""


@overload
def _text(value, what: str, limit: int, *, required: Literal[True]) -> str: ...


@overload
def _text(value, what: str, limit: int, *, required: bool = False) -> str | None: ...


def _text(value, what: str, limit: int, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise ReportError(f"{what} is missing.")
        return None
    if not isinstance(value, str):
        raise ReportError(f"{what} must be a string.")
    if "\x00" in value:
        raise ReportError(f"{what} contains a NUL character.")
    if len(value) > limit:
        raise ReportError(f"{what} is longer than {limit} characters.")
    return value


def image_name(reference: str) -> ImageName:
    """Split `registry/repo:tag` or `registry/repo@sha256:...` into its parts."""
    rest, _, digest = reference.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    tag = rest[colon + 1:] if colon > slash else None
    repository = rest[:colon] if colon > slash else rest
    return ImageName(repository, tag or None, digest or None)


def _scanned_at(raw) -> datetime | None:
    text = _text(raw, "CreatedAt", 64)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")[:32])
    except ValueError:
        return None  # informative only: a timestamp Python cannot read is not a reason to refuse


def _findings(results) -> list[VulnerabilityFinding]:
    if results is None:
        return []
    if not isinstance(results, list):
        raise ReportError("Results must be a list.")
    found: list[VulnerabilityFinding] = []
    for result in results:
        if not isinstance(result, dict):
            raise ReportError("Each entry of Results must be an object.")
        target = _text(result.get("Target"), "Results[].Target", 500, required=True)
        vulns = result.get("Vulnerabilities") or []
        if not isinstance(vulns, list):
            raise ReportError("Results[].Vulnerabilities must be a list.")
        for vuln in vulns:
            found.append(_finding(vuln, target, result))
            if len(found) > MAX_FINDINGS:
                raise ReportError(f"A report may hold at most {MAX_FINDINGS} findings.")
    return found


def _finding(vuln, target: str, result: dict) -> VulnerabilityFinding:
    if not isinstance(vuln, dict):
        raise ReportError("Each vulnerability must be an object.")
    severity = (_text(vuln.get("Severity"), "Severity", 16) or "UNKNOWN").upper()
    if severity not in SEVERITIES:
        severity = "UNKNOWN"
    title = _text(vuln.get("Title"), "Title", 100_000) or ""
    return VulnerabilityFinding(
        vulnerability_id=_text(vuln.get("VulnerabilityID"), "VulnerabilityID", 80,
                               required=True),
        severity=severity, severity_rank=SEVERITIES.index(severity),
        pkg_name=_text(vuln.get("PkgName"), "PkgName", 255, required=True),
        installed_version=_text(vuln.get("InstalledVersion"), "InstalledVersion", 255) or "",
        fixed_version=_text(vuln.get("FixedVersion"), "FixedVersion", 255),
        title=title[:500], primary_url=_text(vuln.get("PrimaryURL"), "PrimaryURL", 500),
        target=target, target_class=_text(result.get("Class"), "Results[].Class", 40),
        target_type=_text(result.get("Type"), "Results[].Type", 40))


def _image(report: dict) -> ImageName:
    artifact = _text(report.get("ArtifactName"), "ArtifactName", 400, required=True)
    name = image_name(artifact)
    meta = report.get("Metadata") or {}
    if not isinstance(meta, dict):
        raise ReportError("Metadata must be an object.")
    tags = meta.get("RepoTags") or []
    digests = meta.get("RepoDigests") or []
    if not isinstance(tags, list) or not isinstance(digests, list):
        raise ReportError("Metadata.RepoTags and Metadata.RepoDigests must be lists.")
    tag = name.tag or next((image_name(_text(t, "RepoTags[]", 400) or "").tag for t in tags
                            if isinstance(t, str)), None)
    digest = name.digest or next((image_name(_text(d, "RepoDigests[]", 400) or "").digest
                                  for d in digests if isinstance(d, str)), None)
    if not (tag or digest):
        raise ReportError("The image has neither a tag nor a digest (ArtifactName, "
                          "Metadata.RepoTags, Metadata.RepoDigests).")
    if tag and len(tag) > 128 or digest and len(digest) > 100:
        raise ReportError("The image tag or digest is too long.")
    return ImageName(name.repository, tag, digest)


def store(*, session: Session, report: object, uploader_email: str,
          service_slug: str | None = None) -> VulnerabilityReport:
    """Validate a parsed Trivy report and keep it as the image's one report."""
    if not isinstance(report, dict):
        raise ReportError("The report must be a JSON object (trivy --format json).")
    version = report.get("SchemaVersion")
    if type(version) is not int or version != 2:
        raise ReportError("SchemaVersion must be 2 (trivy --format json of Trivy 0.20+).")
    image = _image(report)
    slug = service_slug or image.repository.rsplit("/", 1)[-1]
    service = session.scalar(select(Service).where(Service.slug == slug))
    if service is None:
        raise LookupError(f"No catalog service {slug[:63]!r}; name it with ?service=<slug>.")
    findings = _findings(report.get("Results"))
    session.execute(delete(VulnerabilityReport).where(
        VulnerabilityReport.service_id == service.id, VulnerabilityReport.image_ref == image.ref))
    row = VulnerabilityReport(
        service_id=service.id, repository=image.repository, image_ref=image.ref,
        digest=image.digest, artifact_name=report["ArtifactName"],
        scanned_at=_scanned_at(report.get("CreatedAt")), uploaded_at=utcnow(),
        uploaded_by_email=uploader_email,
        counts={s: sum(f.severity == s for f in findings) for s in SEVERITIES},
        findings=findings)
    session.add(row)
    session.flush()
    return row


def reports_for(*, session: Session, service_id: int | None = None) -> list[VulnerabilityReport]:
    """Stored reports (of one service), newest upload first."""
    stmt = (select(VulnerabilityReport).options(selectinload(VulnerabilityReport.service))
            .order_by(VulnerabilityReport.uploaded_at.desc(), VulnerabilityReport.id.desc()))
    if service_id is not None:
        stmt = stmt.where(VulnerabilityReport.service_id == service_id)
    return list(session.scalars(stmt))


def report_for_image(*, session: Session, service_id: int,
                     image_ref: str) -> VulnerabilityReport | None:
    """The report of one image of a service, or None when CI never uploaded one."""
    return session.scalar(select(VulnerabilityReport).where(
        VulnerabilityReport.service_id == service_id,
        VulnerabilityReport.image_ref == image_ref))


@dataclass(frozen=True)
class ServiceCounts:
    service: Service
    images: int
    counts: dict[str, int]  # severity -> findings, over the service's images
    fixable: int            # findings with a fixed version available


def by_service(*, session: Session) -> list[ServiceCounts]:
    """Findings by severity per service, over each service's reported images."""
    grouped: dict[int, list[VulnerabilityReport]] = {}
    for report in reports_for(session=session):
        grouped.setdefault(report.service_id, []).append(report)
    fixable: dict[int, int] = dict(session.execute(
        select(VulnerabilityReport.service_id, func.count(VulnerabilityFinding.id))
        .join(VulnerabilityFinding.report)
        .where(VulnerabilityFinding.fixed_version.is_not(None))
        .group_by(VulnerabilityReport.service_id)).tuples().all())
    rows = [ServiceCounts(reports[0].service, len(reports),
                          {s: sum(r.counts.get(s, 0) for r in reports) for s in SEVERITIES},
                          fixable.get(service_id, 0))
            for service_id, reports in grouped.items()]
    return sorted(rows, key=lambda r: tuple(-r.counts[s] for s in SHOWN) + (r.service.name,))


def critical_findings(report: VulnerabilityReport | None) -> int:
    """How many critical findings a report holds (0 without a report)."""
    return int((report.counts or {}).get("CRITICAL", 0)) if report else 0


def deploy_block_reason(*, session: Session, service_id: int, image_ref: str | None,
                        environment: str, overridden: bool) -> str | None:
    """Why a prod deploy of `image_ref` is refused for critical CVEs, or None."""
    if environment != "prod" or not image_ref or overridden:
        return None
    report = report_for_image(session=session, service_id=service_id, image_ref=image_ref)
    critical = critical_findings(report)
    if not critical or report is None:  # (no report has no critical findings)
        return None
    service = report.service
    return (f"Image {image_ref} of {service.name} has {critical} critical vulnerabilit"
            f"{'y' if critical == 1 else 'ies'} in its latest scan; prod deploys of it are "
            "blocked until a fixed image is built, or a manager grants an override.")
