"""Payloads: cached pydantic adapters and encoders, RFC 9457 problem details, and the fail-fast listing
of a payload with many errors.
"""
