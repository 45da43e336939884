"""Budget math against hand-computed cases (pure functions, no database)."""
from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest

from portal.slo import service as m
from portal.slo.samples import Counts

DAYS30 = timedelta(days=30)


@pytest.mark.parametrize("objective", ["0", "100", "-1", "100.5", 0, 100])
def test_objectives_of_0_and_100_are_rejected(objective):
    with pytest.raises(ValueError):
        m.budget_fraction(objective)


def test_budget_fraction_is_exact():
    assert m.budget_fraction("99.95") == Fraction(1, 2000)
    assert m.budget_fraction("99.9") == Fraction(1, 1000)


def test_budget_minutes_for_99_95_over_30_days_is_21_6():
    budget = m.error_budget(counts=Counts(1_000_000, 1_000_000), objective="99.95",
                            window=DAYS30)
    assert budget.total_minutes == Fraction("21.6")
    assert budget.remaining == 1 and budget.remaining_minutes == Fraction("21.6")


def test_consumed_and_remaining_by_hand():
    # 1,000,000 events, 99.9% -> 1,000 bad allowed; 250 bad -> a quarter consumed
    budget = m.error_budget(counts=Counts(999_750, 1_000_000), objective="99.9", window=DAYS30)
    assert budget.consumed == Fraction(1, 4)
    assert budget.remaining == Fraction(3, 4)
    assert budget.remaining_minutes == Fraction(3, 4) * Fraction("43.2")


def test_overspent_budget_goes_negative():
    budget = m.error_budget(counts=Counts(997, 1000), objective="99.9", window=DAYS30)
    assert budget.consumed == 3 and budget.remaining == -2


def test_missing_data_is_neither_good_nor_bad():
    assert m.sli(Counts(0, 0)) is None
    assert m.burn_rate(Counts(0, 0), "99.9") is None
    budget = m.error_budget(counts=Counts(0, 0), objective="99.9", window=DAYS30)
    assert budget.consumed == 0
    assert m.slo_policy_state(budget, "no_data") == "healthy"
    assert m.alert_state({w: None for w in m.BURN_WINDOWS}) == "no_data"


def test_burn_rate_by_hand():
    # 1% errors against a 0.1% budget burns 10x
    assert m.burn_rate(Counts(990, 1000), "99.9") == 10


def _rates(**values):
    rates = {w: Fraction(0) for w in m.BURN_WINDOWS}
    rates.update({k.replace("_", ""): Fraction(str(v)) for k, v in values.items()})
    return rates


@pytest.mark.parametrize("rates,expected", [
    (_rates(), "ok"),
    (_rates(**{"1h": 14.5, "5m": 14.5}), "page"),
    (_rates(**{"1h": 14.4, "5m": 20}), "ok"),            # threshold itself does not fire
    (_rates(**{"1h": 20, "5m": 1}), "ok"),               # short window has recovered
    (_rates(**{"6h": 6.1, "30m": 6.1}), "page"),
    (_rates(**{"1d": 3.1, "2h": 3.1}), "ticket"),
    (_rates(**{"3d": 1.1, "6h": 1.1}), "ticket"),
    (_rates(**{"3d": 1.1, "6h": 0.9}), "ok"),
    (_rates(**{"3d": 2, "6h": 2, "1h": 15, "5m": 15}), "page"),   # page wins over ticket
])
def test_multiwindow_multi_burn_rate_states(rates, expected):
    assert m.alert_state(rates) == expected


def test_forecast_at_current_burn():
    # half the budget left, burning 2x: the full budget lasts 15 days at 2x, half lasts 7.5
    budget = m.error_budget(counts=Counts(999_500, 1_000_000), objective="99.9", window=DAYS30)
    assert m.forecast_exhaustion(budget, Fraction(2)) == timedelta(days=7, hours=12)
    assert m.forecast_exhaustion(budget, Fraction(0)) is None
    assert m.forecast_exhaustion(budget, None) is None
    spent = m.error_budget(counts=Counts(0, 10), objective="99.9", window=DAYS30)
    assert m.forecast_exhaustion(spent, Fraction(5)) == timedelta(0)


@pytest.mark.parametrize("remaining_bad,alert,state", [
    (0, "ok", "healthy"), (749, "ok", "healthy"), (751, "ok", "at_risk"),
    (0, "ticket", "at_risk"), (1000, "ok", "exhausted"), (1200, "page", "exhausted")])
def test_policy_state_thresholds(remaining_bad, alert, state):
    budget = m.error_budget(counts=Counts(1_000_000 - remaining_bad, 1_000_000),
                            objective="99.9", window=DAYS30)
    assert m.slo_policy_state(budget, alert) == state


def test_worst_state():
    assert m.worst_state([]) == "healthy"
    assert m.worst_state(["healthy", "exhausted", "at_risk"]) == "exhausted"
