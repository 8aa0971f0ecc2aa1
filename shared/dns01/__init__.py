"""DNS-01 solving: providers that write TXT records, and the resolver checks around them."""
