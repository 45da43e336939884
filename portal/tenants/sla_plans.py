"""What each plan promises for availability and pays back when a month misses it.

The SLA target of a plan is `portal.tenants.models.PLANS`. A missed month earns a service
credit: a share of that month's plan fee, by the lowest tier the month's availability fell
below (tiers are checked from the worst down, so 98.5 % on growth earns 25 %, not 10 %).
The first tier of every plan is its target, so "missed" and "credit owed" always agree.
The plan fees are the billing service's monthly plan prices, in US cents.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

# plan -> ((availability % below which the tier applies, credit % of the monthly fee), ...)
CREDIT_TIERS: dict[str, tuple[tuple[Decimal, Decimal], ...]] = {
    "starter": ((Decimal("99.500"), Decimal("10")), (Decimal("99.000"), Decimal("25")),
                (Decimal("95.000"), Decimal("50"))),
    "growth": ((Decimal("99.900"), Decimal("10")), (Decimal("99.000"), Decimal("25")),
               (Decimal("95.000"), Decimal("50"))),
    "enterprise": ((Decimal("99.950"), Decimal("10")), (Decimal("99.900"), Decimal("25")),
                   (Decimal("99.000"), Decimal("50"))),
}
MONTHLY_FEE_CENTS = {"starter": 4_900, "growth": 19_900, "enterprise": 99_900}
CURRENCY = "USD"

def credit_percent(*, plan: str, availability: Fraction | Decimal | None) -> Decimal:
    """The credit (% of the monthly fee) a month at `availability` % earns on `plan`
    (compared exactly: 99.8999 % is below 99.9 %, 99.9 % is not)."""
    if availability is None:
        return Decimal(0)  # no measured traffic: nothing was shown to be down
    earned = Decimal(0)
    for below, percent in CREDIT_TIERS.get(plan, ()):
        if Fraction(availability) < Fraction(below):
            earned = max(earned, percent)
    return earned


def credit_cents(*, plan: str, percent: Decimal) -> int | None:
    """The credit in cents of the plan's monthly fee, or None when the fee is not known."""
    fee = MONTHLY_FEE_CENTS.get(plan)
    if fee is None:
        return None
    return int((Decimal(fee) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
