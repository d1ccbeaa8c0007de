"""The command line. `bufferwise --help` lists the commands; each area registers its own."""

from bufferwise.cli.main import app, main

__all__ = ["app", "main"]
