"""Errors every package may raise or catch."""


class BadInput(ValueError):
    """The input itself is unusable (not an image or PDF, empty, truncated, absurd size).

    Retrying will not help: the component fails with this message, its original is kept.
    """
