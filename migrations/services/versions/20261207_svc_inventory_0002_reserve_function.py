"""inventory: the reservation statement as a PL/pgSQL function, inventory.reserve_stock.

PL/pgSQL keeps the plan of the statement it runs for the rest of the session; sent as
plain SQL it was planned on every call (prepared statements are off for PgBouncer's
transaction mode), which took longer than running it. The statement is the one the
service sent before, unchanged: same locks in the same order, all-or-nothing, the
earlier reservation of a reference answered as before, the new levels returned.

Revision ID: svc_inventory_0002
Revises: svc_inventory_0001
Create Date: 2026-12-07
"""
from alembic import op

revision = 'svc_inventory_0002'
down_revision = 'svc_inventory_0001'
branch_labels = None
depends_on = None

# `earlier` answers a retry with what the reference already holds; `locked` locks every
# warehouse row of the requested SKUs in (sku, warehouse) order, the order settle() and the
# other reservations lock in, so they never deadlock; `pick` takes per SKU the warehouse
# with the most available, from the locked (latest) row versions; only when every line
# fits does `made` insert the reservations, and `taken` reserves stock for exactly the
# rows `made` inserted (a concurrent retry of the same reference inserts nothing: ON
# CONFLICT waits for the first and yields). updated_at is clock_timestamp(): taken under
# the row locks it orders a SKU's changes, the version the stock cache keeps the newest by.
# `use_column`: the result's column names (sku, warehouse...) are also PL/pgSQL variables;
# in the statement they always mean the tables' columns.
RESERVE_STOCK = """
CREATE FUNCTION inventory.reserve_stock(p_tenant_id integer, p_reference text,
                                        p_skus text[], p_quantities integer[])
RETURNS TABLE (kind text, sku text, warehouse text, quantity integer, status text,
               available integer, on_hand integer, reserved integer,
               updated_at timestamptz)
LANGUAGE plpgsql VOLATILE
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH req AS (
        SELECT * FROM unnest(p_skus, p_quantities) AS r(sku, quantity)
    ), earlier AS (
        SELECT e.sku, e.quantity, e.warehouse, e.status FROM inventory.reservations e
        WHERE e.tenant_id = p_tenant_id AND e.reference = p_reference
    ), locked AS MATERIALIZED (
        SELECT s.sku, s.warehouse, s.on_hand, s.reserved, s.updated_at FROM inventory.stock s
        WHERE s.tenant_id = p_tenant_id AND s.sku = ANY(p_skus)
          AND NOT EXISTS (SELECT 1 FROM earlier)
        ORDER BY s.sku, s.warehouse FOR UPDATE
    ), pick AS (
        SELECT DISTINCT ON (l.sku) l.sku, l.warehouse, l.on_hand - l.reserved AS available,
               r.quantity
        FROM locked l JOIN req r ON r.sku = l.sku
        ORDER BY l.sku, l.on_hand - l.reserved DESC, l.warehouse
    ), made AS (
        INSERT INTO inventory.reservations (tenant_id, reference, sku, warehouse, quantity)
        SELECT p_tenant_id, p_reference, p.sku, p.warehouse, p.quantity FROM pick p
        WHERE (SELECT count(*) = cardinality(p_skus)
                      AND coalesce(bool_and(q.available >= q.quantity), false) FROM pick q)
        ON CONFLICT ON CONSTRAINT uq_reservations_reference_sku DO NOTHING
        RETURNING inventory.reservations.sku, inventory.reservations.quantity,
                  inventory.reservations.warehouse, inventory.reservations.status
    ), taken AS (
        UPDATE inventory.stock s
        SET reserved = s.reserved + m.quantity, updated_at = clock_timestamp()
        FROM made m
        WHERE s.tenant_id = p_tenant_id AND s.sku = m.sku AND s.warehouse = m.warehouse
        RETURNING s.sku, s.warehouse, s.on_hand, s.reserved, s.updated_at
    )
    SELECT 'earlier'::text, e.sku::text, e.warehouse::text, e.quantity, e.status::text,
           NULL::int, NULL::int, NULL::int, NULL::timestamptz
    FROM earlier e
    UNION ALL SELECT 'made', m.sku, m.warehouse, m.quantity, m.status, NULL, NULL, NULL, NULL
    FROM made m
    UNION ALL SELECT 'pick', p.sku, p.warehouse, p.quantity, NULL, p.available, NULL, NULL,
           NULL
    FROM pick p
    UNION ALL SELECT 'level', l.sku, l.warehouse, NULL, NULL, NULL,
           coalesce(t.on_hand, l.on_hand), coalesce(t.reserved, l.reserved),
           coalesce(t.updated_at, l.updated_at)
    FROM locked l LEFT JOIN taken t ON t.sku = l.sku AND t.warehouse = l.warehouse;
END
$body$
"""


def upgrade() -> None:
    op.execute(RESERVE_STOCK)


def downgrade() -> None:
    op.execute("DROP FUNCTION inventory.reserve_stock(integer, text, text[], integer[])")
