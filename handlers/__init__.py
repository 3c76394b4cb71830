"""Lambda entry points: thin wrappers around :mod:`shared`."""
