"""Signature parsing (SigV2, SigV4), verifiers, the local credential store, the paste filter."""
