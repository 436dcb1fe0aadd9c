"""`python -m meldplicht` runs the CLI."""

from meldplicht.cli import main

main()
