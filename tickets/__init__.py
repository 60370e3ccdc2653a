"""Core: settings, app assembly, CLI, the ticket service and the event hub."""
