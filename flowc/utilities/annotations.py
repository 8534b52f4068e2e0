"""Argument annotations at Prefect's import path (``prefect.utilities.annotations``)."""

from flowc.runtime.annotations import BaseAnnotation, allow_failure, opaque, quote, unmapped

__all__ = ["BaseAnnotation", "allow_failure", "opaque", "quote", "unmapped"]
