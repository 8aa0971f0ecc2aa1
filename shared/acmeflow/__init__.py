"""The ACME Order and Challenge reconcilers: step machines whose progress lives on status."""
