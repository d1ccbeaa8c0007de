"""bufferwise: size each part's buffer between just-in-time and just-in-case, by measured risk."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bufferwise")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
