"""The embedded Kubernetes API server real kubectl and the kubernetes client talk to."""
