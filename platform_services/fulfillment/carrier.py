"""Shipping labels from a carrier, retried with exponential back-off when it times out.

With CARRIER_URL set, labels come from that HTTP API (POST /labels); without it a local
carrier makes them (no FedEx/UPS/USPS account can be reached from here), with the same
retry policy around either.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import requests
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

CARRIERS = ("fedex", "ups", "usps")


class CarrierUnavailable(Exception):
    """The carrier timed out or failed; worth retrying."""


@dataclass(frozen=True)
class Label:
    carrier: str
    tracking_number: str


class Carrier:
    def __init__(self, url: str | None, base_delay: float, attempts: int = 4) -> None:
        self.url, self.base_delay, self.attempts = url, base_delay, attempts
        self.http = requests.Session()

    def label(self, *, order_id: str, warehouse: str, tenant: str) -> Label:
        """A label for one shipment, retrying carrier outages with exponential back-off."""
        for attempt in Retrying(stop=stop_after_attempt(self.attempts), reraise=True,
                                wait=wait_exponential(multiplier=self.base_delay, max=30),
                                retry=retry_if_exception_type(CarrierUnavailable)):
            with attempt:
                return self._request(order_id, warehouse, tenant)
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    def _request(self, order_id: str, warehouse: str, tenant: str) -> Label:
        if self.url is None:
            digest = hashlib.sha256(f"{order_id}:{warehouse}".encode()).hexdigest()
            return Label(CARRIERS[int(digest[:2], 16) % 3], f"MER{digest[:14].upper()}")
        try:
            response = self.http.post(f"{self.url.rstrip('/')}/labels", timeout=10, json={
                "reference": order_id, "origin": warehouse, "shipper": tenant})
        except requests.RequestException as exc:
            raise CarrierUnavailable(str(exc)) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise CarrierUnavailable(f"carrier answered {response.status_code}")
        response.raise_for_status()
        body = response.json()
        return Label(body["carrier"], body["tracking_number"])


def label_document(*, label: Label, order_id: str, tenant: str, warehouse: str,
                   lines: list[dict]) -> bytes:
    """The printable shipping label stored in S3 (plain text, one item per line)."""
    items = "\n".join(f"  {line['quantity']:>5} x {line['sku']}" for line in lines)
    return (f"MERIDIAN SHIPPING LABEL\ncarrier: {label.carrier.upper()}\n"
            f"tracking: {label.tracking_number}\nfrom warehouse: {warehouse}\n"
            f"shipper: {tenant}\norder: {order_id}\nitems:\n{items}\n").encode()
