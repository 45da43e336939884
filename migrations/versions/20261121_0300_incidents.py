"""incidents: incidents, timeline, alerts, customer updates, postmortems, action items

Revision ID: 0300_incidents
Revises: 0001
Create Date: 2026-11-21 07:04:59.314651
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0300_incidents'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incidents_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('customer_facing', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('declared_by', sa.String(length=254), nullable=True),
    sa.Column('roles', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mitigated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("severity IN ('sev1', 'sev2', 'sev3', 'sev4')", name=op.f('ck_incidents_incidents_severity')),
    sa.CheckConstraint("status IN ('triggered', 'acknowledged', 'mitigated', 'resolved')", name=op.f('ck_incidents_incidents_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents_incidents'))
    )
    op.create_index('ix_incidents_incidents_status_opened', 'incidents_incidents', ['status', 'opened_at'], unique=False)
    op.create_table('incidents_action_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('owner_email', sa.String(length=254), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'done')", name=op.f('ck_incidents_action_items_status')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents_incidents.id'], name=op.f('fk_incidents_action_items_incident_id_incidents_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents_action_items'))
    )
    op.create_index(op.f('ix_incidents_action_items_incident_id'), 'incidents_action_items', ['incident_id'], unique=False)
    op.create_index('ix_incidents_action_items_status_due', 'incidents_action_items', ['status', 'due_date'], unique=False)
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
    op.create_table('incidents_customer_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('author_email', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents_incidents.id'], name=op.f('fk_incidents_customer_updates_incident_id_incidents_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents_customer_updates'))
    )
    op.create_index(op.f('ix_incidents_customer_updates_incident_id'), 'incidents_customer_updates', ['incident_id'], unique=False)
    op.create_table('incidents_postmortems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('impact', sa.Text(), nullable=False),
    sa.Column('timeline', sa.Text(), nullable=False),
    sa.Column('root_cause', sa.Text(), nullable=False),
    sa.Column('contributing_factors', sa.Text(), nullable=False),
    sa.Column('went_well', sa.Text(), nullable=False),
    sa.Column('went_badly', sa.Text(), nullable=False),
    sa.Column('lessons', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=254), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents_incidents.id'], name=op.f('fk_incidents_postmortems_incident_id_incidents_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents_postmortems')),
    sa.UniqueConstraint('incident_id', name=op.f('uq_incidents_postmortems_incident_id'))
    )
    op.create_index(op.f('ix_incidents_postmortems_due_at'), 'incidents_postmortems', ['due_at'], unique=False)
    op.create_table('incidents_runbooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents_incidents.id'], name=op.f('fk_incidents_runbooks_incident_id_incidents_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents_runbooks')),
    sa.UniqueConstraint('incident_id', 'url', name='incident_url')
    )
    op.create_table('incidents_tenants',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents_incidents.id'], name=op.f('fk_incidents_tenants_incident_id_incidents_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_incidents_tenants_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'tenant_id', name=op.f('pk_incidents_tenants'))
    )
    op.create_index(op.f('ix_incidents_tenants_tenant_id'), 'incidents_tenants', ['tenant_id'], unique=False)
    op.create_table('incidents_timeline',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=True),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('actor_email', sa.String(length=254), nullable=True),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("kind IN ('note', 'status', 'severity', 'role', 'alert', 'page', 'silence', 'service', 'customer_update', 'postmortem')", name=op.f('ck_incidents_timeline_kind')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents_incidents.id'], name=op.f('fk_incidents_timeline_incident_id_incidents_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents_timeline'))
    )
    op.create_index('ix_incidents_timeline_incident_id_id', 'incidents_timeline', ['incident_id', 'id'], unique=False)
    op.create_table('incidents_services',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents_incidents.id'], name=op.f('fk_incidents_services_incident_id_incidents_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_incidents_services_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'service_id', name=op.f('pk_incidents_services'))
    )
    op.create_index(op.f('ix_incidents_services_service_id'), 'incidents_services', ['service_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_incidents_services_service_id'), table_name='incidents_services')
    op.drop_table('incidents_services')
    op.drop_index('ix_incidents_timeline_incident_id_id', table_name='incidents_timeline')
    op.drop_table('incidents_timeline')
    op.drop_index(op.f('ix_incidents_tenants_tenant_id'), table_name='incidents_tenants')
    op.drop_table('incidents_tenants')
    op.drop_table('incidents_runbooks')
    op.drop_index(op.f('ix_incidents_postmortems_due_at'), table_name='incidents_postmortems')
    op.drop_table('incidents_postmortems')
    op.drop_index(op.f('ix_incidents_customer_updates_incident_id'), table_name='incidents_customer_updates')
    op.drop_table('incidents_customer_updates')
    op.drop_index(op.f('ix_incidents_alerts_incident_id'), table_name='incidents_alerts')
    op.drop_table('incidents_alerts')
    op.drop_index('ix_incidents_action_items_status_due', table_name='incidents_action_items')
    op.drop_index(op.f('ix_incidents_action_items_incident_id'), table_name='incidents_action_items')
    op.drop_table('incidents_action_items')
    op.drop_index('ix_incidents_incidents_status_opened', table_name='incidents_incidents')
    op.drop_table('incidents_incidents')
