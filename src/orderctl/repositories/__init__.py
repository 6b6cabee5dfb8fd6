"""Repositories: one per aggregate. They build queries and may flush, never commit."""
