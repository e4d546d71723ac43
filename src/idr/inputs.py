"""Which Segment warehouse tables a warehouse is built from, chosen once and remembered.

A warehouse is built from its loaded files and, as `--segment-tables` says, the demo seeds (`seeds`),
the user's Segment schema (`source`) or neither (`none`). A choice given on the command line is
remembered in the warehouse and holds for every later run that gives none. Without any choice, a
warehouse that has loaded files (or is about to) never builds the demo: only a new, empty one does.
"""

from __future__ import annotations

SEEDS, SOURCE, NO_TABLES = "seeds", "source", "none"
SEGMENT_TABLE_CHOICES = (SEEDS, SOURCE, NO_TABLES)
# The table, in the landing schema, that remembers the choice.
INPUTS_TABLE = "warehouse_inputs"


def choose(given: str | None, remembered: str | None, has_loaded_files: bool, loading_files: bool) -> str:
    """The Segment tables this run builds from: the choice given, else the one remembered, else `none`
    for a warehouse with files, else the demo."""
    if given is not None:
        return given
    if remembered is not None:
        return remembered
    return "none" if has_loaded_files or loading_files else "seeds"
