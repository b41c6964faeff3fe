"""Compatibility namespace for entry scripts written for Azure ML parallel jobs."""
