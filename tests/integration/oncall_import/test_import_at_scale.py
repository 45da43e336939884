"""The importer at the size of a large account: overrides are matched, re-created and
removed in batches (the statements of an apply do not grow with the overrides), lists of
more than two hundred pages are read to the end, and time zones are checked without
walking the zone files at every shift."""
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.oncall.importing.apply import apply_plan
from portal.oncall.importing.oncall_client import read_oncall
from portal.oncall.importing.oncall_shifts import shift_or_unmapped
from portal.oncall.importing.plan import (
    ImportPlan,
    PlanOverride,
    PlanSchedule,
    PlanUser,
    Unmapped,
    known_zone,
)
from portal.oncall.models import Override
from portal.oncall.rotation_models import ImportMapping
from tests.integration.oncall_import.conftest import TOKEN, oncall_data
from tests.integration.oncall_import.fake_grafana_oncall import FakeGrafanaOnCall
from tests.seeded_demo import counting

START = datetime(2026, 5, 4, 8, tzinfo=UTC)


def _plan(tag: str, overrides: int, *, schedule: str = "SSCALE") -> ImportPlan:
    """Three people (external ids unique to `tag`) and `overrides` six-hour covers, the
    first of them held by two people."""
    people = [PlanUser(f"{tag}-U{n}", f"scale-{tag}-{n}@oncall-import.example", f"Person {n}")
              for n in range(3)]
    covers = tuple(PlanOverride((f"{tag}-U{n % 3}",) + ((f"{tag}-U2",) if n == 0 else ()),
                                START + timedelta(days=n), START + timedelta(days=n, hours=6))
                   for n in range(overrides))
    return ImportPlan(source="grafana-oncall", users=people, schedules=[
        PlanSchedule(schedule, f"Scale {tag} {schedule}", "Europe/Berlin", overrides=covers)])


def _rows(session, schedule_id: int) -> set[int]:
    return set(session.scalars(select(Override.id).where(Override.schedule_id == schedule_id)))


def _mapped(session) -> dict[str, int]:
    return dict(session.execute(select(ImportMapping.external_id, ImportMapping.local_id)
                                .where(ImportMapping.kind == "override")).all())


def test_overrides_are_matched_recreated_and_removed(session, make_user):
    admin = make_user("admin")
    tag = secrets.token_hex(3)
    first = apply_plan(session=session, plan=_plan(tag, 5), actor=admin)
    assert first.created["overrides"] == 6  # the first cover has two people
    schedule_id = session.scalar(select(ImportMapping.local_id).where(
        ImportMapping.kind == "schedule", ImportMapping.external_id == "SSCALE"))
    mapped = _mapped(session)
    assert len(mapped) == 6 and set(mapped.values()) == _rows(session, schedule_id)

    day_one = next(v for k, v in mapped.items() if k.endswith(f"|{tag}-U1")
                   and k.startswith(f"SSCALE|{(START + timedelta(days=1)).isoformat()}"))
    session.delete(session.get(Override, day_one))  # someone deleted one by hand
    session.flush()
    shorter = _plan(tag, 4)  # and the last cover left Grafana OnCall
    again = apply_plan(session=session, plan=shorter, actor=admin)
    assert (again.created["overrides"], again.updated["overrides"],
            again.unchanged["overrides"]) == (1, 1, 4)
    remaining = _mapped(session)
    assert len(remaining) == 5 and set(remaining.values()) == _rows(session, schedule_id)
    assert day_one not in remaining.values()  # the re-created cover's mapping moved
    third = apply_plan(session=session, plan=shorter, actor=admin)
    assert (third.total_created, third.total_updated, third.unchanged["overrides"]) == (0, 0, 5)


def test_statements_do_not_grow_with_the_overrides(session, make_user):
    admin = make_user("admin")
    counts = []
    for n in (4, 40):
        plan = _plan(secrets.token_hex(3), n, schedule=f"S{n}")
        with counting(session.connection()) as first:
            apply_plan(session=session, plan=plan, actor=admin)
        with counting(session.connection()) as second:
            result = apply_plan(session=session, plan=plan, actor=admin)
        assert result.unchanged["overrides"] == n + 1
        counts.append((len(first), len(second)))
    assert counts[0] == counts[1], counts


def test_lists_longer_than_two_hundred_pages_are_read_to_the_end():
    data = oncall_data("pages")
    extra = [{"id": f"OHEXTRA{n:03d}", "name": "Cover", "type": "override",
              "start": f"2026-06-{1 + n % 28:02d}T{n % 20:02d}:00:00", "duration": 3600,
              "users": ["U1ALEX1"], "time_zone": None, "level": 0}
             for n in range(205)]
    data["on_call_shifts"] += extra
    data["schedules"][0]["shifts"] += [s["id"] for s in extra]
    with FakeGrafanaOnCall(data, token=TOKEN, page_size=1) as fake:
        objects = read_oncall(base_url=fake.url, token=TOKEN, allowlist=("127.0.0.1",))
        pages = [page for path, page, _ in fake.requests if path.endswith("/on_call_shifts/")]
    assert len(objects.shifts) == 213 and pages == list(range(1, 214))


def test_time_zones_are_known_or_refused():
    assert known_zone("Europe/Berlin") and known_zone("UTC")
    assert not known_zone("Mars/Olympus_Mons") and not known_zone(None)
    refused = shift_or_unmapped({"id": "OHMARS", "type": "override", "time_zone": "Mars/Base",
                                 "start": "2026-06-01T09:00:00", "duration": 3600,
                                 "users": ["U1"]}, schedule_zone="UTC")
    assert isinstance(refused, Unmapped) and "time zone 'Mars/Base' is unknown" in refused.reason
