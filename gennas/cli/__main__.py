"""``python -m gennas.cli``: the gennas command line."""

from gennas.cli.app import main

main()
