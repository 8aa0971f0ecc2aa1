"""ACME (RFC 8555) adapter: protocol steps on serializable state, over certbot's `acme`.

The `acme` library does JWS signing, nonces and transport; these modules add
what a stateless function needs: state that survives a process boundary,
idempotent steps, and errors classified as transient or permanent.
"""
