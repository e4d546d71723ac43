"""The identity-resolution driver (`idr`): the command line (cli), a run without it (runs), and their
building blocks, one job per module."""
