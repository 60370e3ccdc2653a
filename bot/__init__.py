"""Teams front door: adapter, inbound auth, activity handler, gateway and outbox worker."""
