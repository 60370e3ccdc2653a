"""Browser front door: accounts, pages, JSON API, /ws and the Chatwoot webhook route."""
