"""Use cases that the CLI, the web app and distributed runs all call (one module per area)."""
