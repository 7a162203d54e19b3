"""Phone and ID-number masking lives in domain/privacy.py (one rule for everything a person reads); these names
stay for the callers that import them from here."""

from __future__ import annotations

from domain.privacy import PiiMatch, find_pii
from domain.privacy import mask as mask_pii

__all__ = ["PiiMatch", "find_pii", "mask_pii"]
