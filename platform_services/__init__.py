"""The Meridian platform services the portal operates (orders, inventory, fulfillment,
worker, report). They never import `portal`: the portal reaches them over HTTP and
metrics only, exactly as in production."""
