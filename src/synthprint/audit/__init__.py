"""Audit any generator: membership attacks in cross-validation, per-image risk, copies."""

from synthprint.audit.copies import CopyMatches, CopyYardstick, find_copies, real_yardstick
from synthprint.audit.run import Attack, AuditResult, run_audit

__all__ = ["Attack", "AuditResult", "CopyMatches", "CopyYardstick", "find_copies",
           "real_yardstick", "run_audit"]
