"""Forged pagination tokens for tests: a token whose signature surely differs.

Cutting a token's tail and pasting fixed characters leaves it unchanged whenever the tail
already was those characters (for a random secret, one token in a few hundred), so such a
test fails at random.  ``forged`` changes the first signature character, which carries six
whole bits of the signature, to another one.
"""


def forged(token: str) -> str:
    """``token`` with its signature changed and its payload kept."""
    body, _, signature = token.rpartition(".")
    first = "B" if signature[0] == "A" else "A"
    return f"{body}.{first}{signature[1:]}"
