"""The REST API's JSON parser: DRF's, with a bound on nesting.

Python's decoder recurses once per level, so a body nested ~1,000 levels deep raises
RecursionError (a 500) wherever it is parsed, including during OAuth authentication, which
reads the body before any view runs. No body of the contract is nested more than a few
levels, so anything deeper than MAX_DEPTH is refused as bad input before it reaches a
serializer (whose error flattening also recurses)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def _too_deep(data, limit: int) -> bool:
    # Iterative, so that checking the depth cannot itself overflow the stack.
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        message = f"JSON nested more than {MAX_DEPTH} levels deep is not accepted."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(message) from error
        if _too_deep(data, MAX_DEPTH):
            raise ParseError(message)
        return data
