"""The Certificate domain model: parsed spec, issuance/readiness policy, Secret layout.

Pure functions of (objects, now) -> values; the reconciler does the I/O.
"""
