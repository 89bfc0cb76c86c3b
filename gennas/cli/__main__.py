"""``python -m gennas.cli``: the gennas command line."""

from gennas.entry import main

main()
