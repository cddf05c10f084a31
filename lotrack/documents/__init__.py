"""Documents: certificates, labels, codes and signed label tokens."""
