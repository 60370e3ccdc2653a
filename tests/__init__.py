"""Tests for Tickets for Teams."""
