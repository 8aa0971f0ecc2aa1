"""PKI primitives: keys, CSRs, signing, X.509 inspection and keystore formats.

Pure functions over `cryptography` objects; no I/O and no Kubernetes types.
"""
