"""Helpers for tools/bench: secq vs DuckDB vs jq on the same generated CloudTrail data."""
