"""Fixtures for the leads tests (registered in tests/conftest.py)."""
