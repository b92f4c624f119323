"""Paste filters of the pipeline: request id, fault wrapping, routing."""
