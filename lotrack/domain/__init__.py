"""Pure rules of lotrack: standard library only, plain values in, verdicts out."""
