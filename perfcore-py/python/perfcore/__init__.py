"""perfcore: embeddable, low-overhead profiling, backed by a Rust core."""

from ._perfcore import __version__

__all__ = ["__version__"]
