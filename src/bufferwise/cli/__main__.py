"""`python -m bufferwise.cli` runs the command line (same as the `bufferwise` script)."""

from bufferwise.cli.main import main

main()
