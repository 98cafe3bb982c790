"""Toy AIRs that exercise the STARK end to end (and serve as templates for real tables)."""
