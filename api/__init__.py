"""Composition: settings, the pipeline, the worker, the HTTP API and the CLI."""
