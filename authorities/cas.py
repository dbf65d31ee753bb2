"""CAS registry numbers (NNNNNNN-NN-N): the check digit verified by python-stdnum's
``stdnum.casrn`` rather than by hand, and one written form. Used wherever a chemical is
named by its CAS number: the catalogue, the special surveillance list, incidents and the
items of voluntary notifications."""

from stdnum import casrn


def is_valid(number: str) -> bool:
    """A CAS number in its usual written form (hyphens where they belong) whose check digit
    is right."""
    text = (number or "").strip()
    return text.count("-") == 2 and casrn.is_valid(text)


def normalised(number: str) -> str:
    """The number as written (hyphens in place); stdnum's ValidationError if it is not one."""
    return casrn.validate((number or "").strip())
