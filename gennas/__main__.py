"""``python -m gennas``: the gennas command line (as the ``gennas`` script)."""

from gennas.cli.app import main

main()
