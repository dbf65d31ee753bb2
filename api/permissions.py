"""The permission every endpoint shares: a token's scopes. Tokens are issued and checked
by accounts.oauth; here the view's ``required_scopes`` is compared with them."""

from rest_framework.permissions import BasePermission


class HasRequiredScope(BasePermission):
    """Token requests must carry the scope the view names for the action
    (``required_scopes`` as a dict by action, or a list for every action).
    Browser sessions are governed by the user's role instead."""

    message = "Your token lacks the scope this operation needs."

    def has_permission(self, request, view):
        token = request.auth
        if token is None or not hasattr(token, "is_valid"):
            return True
        required = getattr(view, "required_scopes", None)
        if isinstance(required, dict):
            required = required.get(getattr(view, "action", None), required.get("default", []))
        return token.is_valid(list(required or []))
