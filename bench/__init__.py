"""``make bench``: speed and memory figures, measured in one run (see ``python -m bench``)."""
