"""Building blocks of the `scripts/idr.py` driver, one job per module."""
