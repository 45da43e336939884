"""oncall/incidents: one stored alert per fingerprint

The on-call domain's `oncall_alerts` (written by the Alertmanager webhook) becomes the only
table of alerts. The incidents domain's link of an alert to its incident moves onto it as
`incident_id` (a plain id, like `oncall_pages.incident_id`), `incidents_alerts` goes, and
the fingerprint takes the wider of the two widths so no stored alert is cut.

Revision ID: 1004_single_alert_intake
Revises: 1003_auth_preferences
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '1004_single_alert_intake'
down_revision = '1003_auth_preferences'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column('oncall_alerts', 'fingerprint', existing_type=sa.String(length=64),
                    type_=sa.String(length=128), existing_nullable=False)
    op.add_column('oncall_alerts', sa.Column('incident_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_oncall_alerts_incident_id'), 'oncall_alerts', ['incident_id'],
                    unique=False)
    # Alerts only the incidents domain recorded (not through the webhook) keep existing;
    # their name lives in the labels from now on.
    op.execute("""
        INSERT INTO oncall_alerts (fingerprint, status, labels, annotations, starts_at,
                                   ends_at, severity, service, received_count,
                                   last_received_at, incident_id)
        SELECT fingerprint, status,
               CASE WHEN labels ? 'alertname' OR alertname = '' THEN labels
                    ELSE labels || jsonb_build_object('alertname', alertname) END,
               annotations, coalesce(starts_at, last_seen_at),
               ends_at, left(severity_label, 20), service_slug, 1, last_seen_at, incident_id
        FROM incidents_alerts
        ON CONFLICT (fingerprint) DO NOTHING""")
    op.execute("""
        UPDATE oncall_alerts o SET incident_id = i.incident_id
        FROM incidents_alerts i
        WHERE i.fingerprint = o.fingerprint AND i.incident_id IS NOT NULL""")
    op.drop_index(op.f('ix_incidents_alerts_incident_id'), table_name='incidents_alerts')
    op.drop_table('incidents_alerts')


def downgrade() -> None:
    op.create_table('incidents_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=128), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('alertname', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('severity_label', sa.String(length=32), nullable=True),
    sa.Column('service_slug', sa.String(length=63), nullable=True),
    sa.Column('labels', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('annotations', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('runbook_url', sa.String(length=500), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents_incidents.id'], name=op.f('fk_incidents_alerts_incident_id_incidents_incidents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents_alerts')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_incidents_alerts_fingerprint'))
    )
    op.create_index(op.f('ix_incidents_alerts_incident_id'), 'incidents_alerts', ['incident_id'], unique=False)
    # Every alert was in both tables before; a link to an incident that is gone is dropped.
    op.execute("""
        INSERT INTO incidents_alerts (fingerprint, incident_id, alertname, status,
                                      severity_label, service_slug, labels, annotations,
                                      runbook_url, starts_at, ends_at, last_seen_at)
        SELECT o.fingerprint, i.id, left(coalesce(o.labels->>'alertname', ''), 200), o.status,
               o.severity, o.service, o.labels, o.annotations,
               CASE WHEN length(r.url) <= 500 THEN r.url END,
               o.starts_at, o.ends_at, o.last_received_at
        FROM oncall_alerts o LEFT JOIN incidents_incidents i ON i.id = o.incident_id
        CROSS JOIN LATERAL (SELECT coalesce(nullif(o.annotations->>'runbook_url', ''),
                                            nullif(o.annotations->>'runbook', '')) AS url) r""")
    op.drop_index(op.f('ix_oncall_alerts_incident_id'), table_name='oncall_alerts')
    op.drop_column('oncall_alerts', 'incident_id')
    # The webhook never accepted longer fingerprints; such rows live on in incidents_alerts.
    op.execute("DELETE FROM oncall_alerts WHERE length(fingerprint) > 64")
    op.alter_column('oncall_alerts', 'fingerprint', existing_type=sa.String(length=128),
                    type_=sa.String(length=64), existing_nullable=False)
