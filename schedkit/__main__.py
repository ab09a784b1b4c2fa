"""``python -m schedkit``: the same command line as ``schedkit``."""

from .cli import main

main(prog_name="schedkit")
