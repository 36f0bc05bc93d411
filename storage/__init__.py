"""Bytes and records: content-addressed objects and the registry database."""
