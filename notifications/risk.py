"""Risk flags raised when a notification is sent or amended, by evaluators that other apps
register: the apps that know what makes a notification unusual (incidents: a party named
in an incident; the risk module: estimates, history) sit above this one and cannot be
called from its services, so they register here, in their AppConfig.ready, and the
services call ``evaluate`` at the moments people decide on (sending, amending).

An evaluator is ``evaluator(notification, *, now) -> None``: it raises or resolves its
own flags (RiskSignal, one per kind) in the caller's transaction. The chase sweep raises
``silence`` and the shipment's services raise ``quantity_discrepancy`` and
``arrival_unconfirmed`` themselves; those are not evaluators, because time or a
confirmation raises them, not the notification's content."""

from collections.abc import Callable

Evaluator = Callable[..., None]
_EVALUATORS: list[tuple[str, Evaluator]] = []


def register(name: str, evaluator: Evaluator) -> None:
    """Add ``evaluator`` under ``name`` (registering the same name again replaces it, so
    that a reloaded app does not evaluate twice)."""
    global _EVALUATORS
    _EVALUATORS = [(n, e) for n, e in _EVALUATORS if n != name] + [(name, evaluator)]


def registered() -> list[str]:
    return [name for name, _evaluator in _EVALUATORS]


def evaluate(notification, *, now) -> None:
    """Run every registered evaluator on ``notification`` (sent or amended)."""
    for _name, evaluator in _EVALUATORS:
        evaluator(notification, now=now)
