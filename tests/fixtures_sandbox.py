"""Fixtures for the sandbox tests (registered in tests/conftest.py)."""
