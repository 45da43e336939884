"""Job engines for self-service: Terraform, Ansible and GitOps/ArgoCD runners.

Nothing here knows about Flask or the database: each runner takes plain values and a
`sink` callable that receives every log line as it is produced.
"""
