"""Command-line entry points (console scripts `albert-*`; the top-level run_*.py are shims)."""
