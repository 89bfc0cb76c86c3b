"""``python -m gennas``: the gennas command line (as the ``gennas`` script)."""

from gennas.entry import main

main()
