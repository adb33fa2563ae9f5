"""Type stub for the compiled extension module ``perfcore._perfcore``."""

__all__ = ["__version__"]

__version__: str
