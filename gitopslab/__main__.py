"""``python -m gitopslab`` runs the ``gitopslab`` command."""
import sys

from gitopslab.cli import main

sys.exit(main())
