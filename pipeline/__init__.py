"""Evidence-review pipeline for ketamine therapy claims."""

__version__ = "0.1.0"
