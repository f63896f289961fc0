"""nk-monitor: poll news feeds, flag stories about North Korean defectors, forced
repatriation and border enforcement, and help analysts review them."""

__version__ = "0.1.0"
