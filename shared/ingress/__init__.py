"""The ingress-shim: Certificates for annotated Ingresses."""
