"""The result record and its store."""
