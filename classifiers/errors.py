from __future__ import annotations


class ModelError(Exception):
    """A corpus or model file that cannot be used, or training that cannot proceed."""
