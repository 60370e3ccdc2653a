"""Everything Chatwoot: Client API client, cable listener, webhook verification and the sandbox."""
