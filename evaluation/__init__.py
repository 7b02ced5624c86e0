"""Comparing strategies end to end: the runner, result files, notebook helpers, submission."""
