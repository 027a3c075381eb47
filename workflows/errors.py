"""The errors a caller can cause (defined in handlers so every layer can raise them)."""
from handlers.errors import CaseError, Conflict, Forbidden, Invalid, NotFound

__all__ = ["CaseError", "Conflict", "Forbidden", "Invalid", "NotFound"]
