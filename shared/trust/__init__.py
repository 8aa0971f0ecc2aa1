"""trust-manager's Bundle: CA certificates gathered from sources, written to namespaces."""
