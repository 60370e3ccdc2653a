"""Core: settings, app assembly, CLI, the ticket service, the event hub and i18n."""
