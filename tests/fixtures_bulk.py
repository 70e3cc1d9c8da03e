"""Fixtures for the bulk tests (registered in tests/conftest.py)."""
