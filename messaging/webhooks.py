"""Webhooks: an authority's licensing system is told of events on the notifications the
authority is party to, so that it need not poll.

- Registration (``register_endpoint`` and friends) is the one write path for the web page
  and the REST API. Only HTTPS addresses; the signing secret is generated here and shown
  once.
- ``deliver_for`` is called by the outbox (messaging.outbox.dispatch) for every outbox
  message: one WebhookDelivery row per matching active endpoint of the authority the
  message is addressed to (the same side as the e-mail, never anyone who is not a party),
  and a Celery task per delivery after commit.
- ``attempt`` sends one delivery once: claimed with a lease (a conditional UPDATE), POSTed
  with a 10-second timeout, recorded. The host is resolved at every attempt (``resolve``);
  if any address of any record is not public (``is_public_address``) nothing is sent, and
  otherwise the connection goes to the address that was checked, never to a second lookup;
  no redirect is followed. The delivery log keeps a generic reason, never the socket's
  error. A 2xx delivers it; anything else schedules the next attempt in the database
  (``next_attempt_at``) with exponential backoff: 1 minute, doubling, at most 2 hours
  apart, for at least 24 hours. The periodic task
  ``messaging.retry_webhook_deliveries`` enqueues the due ones, so no retry
  depends on a long broker countdown.
- After a run of consecutive failures an endpoint is disabled and its authority e-mailed.

The body carries the event, the reference and the API link, never the notification's
content: the receiver fetches it with its own token, so visibility is decided by the API.

Verifying a delivery (the recipe in README.md and the schema): ``X-PEN-Timed-Signature`` is
``t=<unix seconds>,v1=<hex>``, the HMAC-SHA256 of ``"<t>." + raw_body``; a receiver checks it
in constant time and refuses a ``t`` more than SIGNATURE_TOLERANCE from its clock, so a
captured delivery cannot be replayed later (``verify_timed``). ``X-PEN-Signature`` (the body
alone) stays for receivers written against the first release; it is deprecated.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
from datetime import timedelta
from urllib.parse import urlsplit

import certifi
import urllib3
from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from authorities.models import AuthorityKind
from web.dates import for_people

from .models import (
    DeliveryStatus,
    OutboxMessage,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .topics import RECIPIENTS

SIGNATURE_HEADER = "X-PEN-Signature"  # the body alone: deprecated, kept for v1 receivers
TIMED_SIGNATURE_HEADER = "X-PEN-Timed-Signature"
# How far a receiver should accept a timestamp from its own clock (documented): wide enough
# for clock drift and a slow network, short enough that a captured delivery soon expires.
SIGNATURE_TOLERANCE = timedelta(minutes=5)
EVENT_HEADER = "X-PEN-Event"
DELIVERY_HEADER = "X-PEN-Delivery"
LEASE = timedelta(minutes=2)
MAX_ENDPOINTS_PER_AUTHORITY = 10

logger = logging.getLogger(__name__)


def _setting(name, default):
    return getattr(settings, name, default)


def timeout_seconds() -> float:
    return _setting("WEBHOOK_TIMEOUT_SECONDS", 10)


def retry_base() -> timedelta:
    return _setting("WEBHOOK_RETRY_BASE", timedelta(minutes=1))


def retry_cap() -> timedelta:
    return _setting("WEBHOOK_RETRY_CAP", timedelta(hours=2))


def retry_for() -> timedelta:
    """How long a delivery is retried: at least this long after the event."""
    return _setting("WEBHOOK_RETRY_FOR", timedelta(hours=24))


def disable_after_failures() -> int:
    return _setting("WEBHOOK_DISABLE_AFTER_FAILURES", 10)


def disable_after_failing_for() -> timedelta:
    """An endpoint is disabled only once it has also been failing this long, so that the
    promise "retried for at least 24 hours" holds for every delivery to it."""
    return _setting("WEBHOOK_DISABLE_AFTER_FAILING_FOR", timedelta(hours=24))


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1 min, 2, 4, ... capped at 2 h."""
    base, cap = retry_base(), retry_cap()
    if attempts >= 30:  # 2**30 minutes is far beyond any cap; avoid huge numbers.
        return cap
    return min(base * (2 ** max(attempts - 1, 0)), cap)


# --- registration ---------------------------------------------------------------------


def may_manage(actor) -> bool:
    """Administrators of a national authority, and its licensing systems' machine clients
    (whose token scope, notifications:write, the API checks)."""
    if actor is None or not actor.is_authenticated or not actor.is_active or actor.authority_id is None:
        return False
    if actor.authority.kind != AuthorityKind.NATIONAL:
        return False
    return actor.is_authority_admin or (actor.is_machine and actor.can_act)


def _require_manager(actor):
    if not may_manage(actor):
        raise PermissionDenied(_("Only your authority's administrators or licensing systems manage webhooks."))


def endpoints_for(actor):
    """The endpoints ``actor`` may see: those of its own authority. The one query path."""
    if not may_manage(actor):
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(authority_id=actor.authority_id)


def get_endpoint_for(actor, pk) -> WebhookEndpoint:
    """The endpoint, if it is the actor's authority's; otherwise the same 404 as missing."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such webhook endpoint.") from None
    endpoint = endpoints_for(actor).filter(pk=pk).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


def insecure_urls_allowed() -> bool:
    """``WEBHOOK_ALLOW_INSECURE_URLS`` (tests and the local demo only; never in production):
    http:// and addresses on this machine or private networks are allowed."""
    return bool(_setting("WEBHOOK_ALLOW_INSECURE_URLS", False))


# IPv6 forms that carry an IPv4 address: the destination is the IPv4 address, so it is the
# one judged. IPv4-mapped (::ffff:a.b.c.d), 6to4 and Teredo are found by ipaddress; NAT64
# (64:ff9b::a.b.c.d) and IPv4-compatible (::a.b.c.d, deprecated, how [::127.0.0.1] parses)
# by their prefix.
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


# IANA's IETF protocol assignments (RFC 6890): not globally reachable except the two
# anycast services in it, yet Python 3.11's is_global calls most of it public (192.0.0.8,
# found by tests/test_webhook_address_fuzz.py).
_IETF_PROTOCOL_ASSIGNMENTS = ipaddress.ip_network("192.0.0.0/24")
_GLOBAL_IN_IETF_ASSIGNMENTS = {ipaddress.IPv4Address("192.0.0.9"), ipaddress.IPv4Address("192.0.0.10")}


def _is_public_ipv4(address: ipaddress.IPv4Address) -> bool:
    if address in _IETF_PROTOCOL_ASSIGNMENTS and address not in _GLOBAL_IN_IETF_ASSIGNMENTS:
        return False
    # is_global alone calls multicast (224/4) public; the rest is belt and braces.
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_private
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_unspecified
    )


def is_public_address(address) -> bool:
    """True only for an address on the public Internet: the one decision, used at
    registration and before every connection. Loopback, private, shared (100.64/10),
    link-local, multicast, reserved, unspecified and documentation addresses are not public,
    nor is an IPv6 address whose embedded IPv4 address (mapped, compatible, 6to4, NAT64,
    Teredo) is not, nor one with a zone (``fe80::1%eth0``). Anything unparsable is not."""
    try:
        address = ipaddress.ip_address(address)
    except ValueError:
        return False
    if address.version == 4:
        return _is_public_ipv4(address)
    if address.scope_id:
        return False
    if address.ipv4_mapped is not None:
        return _is_public_ipv4(address.ipv4_mapped)
    if address in _NAT64_WELL_KNOWN:  # reserved for ipaddress, but a gateway reaches the IPv4 address
        return _is_public_ipv4(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address in _IPV4_COMPATIBLE:  # ::, ::1 and the deprecated ::a.b.c.d: never a destination
        return False
    if address.teredo is not None:  # 2001::/32: a tunnel to the embedded client, never a receiver
        return False
    if address.sixtofour is not None and not _is_public_ipv4(address.sixtofour):
        return False
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_private
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_site_local
        and not address.is_unspecified
    )


# Names that are never on the public Internet: RFC 6761 (localhost), RFC 6762 (local and
# the private-use names it lists), RFC 8375 (home.arpa), cloud metadata (*.internal) and
# the customary localhost.localdomain.
INTERNAL_SUFFIXES = ("localhost", "localdomain", "local", "internal", "intranet", "private", "corp", "home", "lan")


def is_internal_name(host: str) -> bool:
    """A host name that can only mean this machine or a private network: a single label
    (resolved through the search domains), or one under an internal suffix. A trailing dot
    changes nothing."""
    name = host.lower().rstrip(".")
    labels = name.split(".")
    if len(labels) < 2:
        return True
    return labels[-1] in INTERNAL_SUFFIXES or name.endswith(".home.arpa")


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, each once, in the resolver's order: the one DNS
    lookup of a delivery (the connection then goes to one of these addresses, never to the
    name). Raises OSError (socket.gaierror) or UnicodeError when the name does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _addresses_of(host: str, port: int) -> list[str]:
    """A literal address is itself (no lookup); a name is resolved."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return resolve(host, port)


def validate_endpoint_url(url: str) -> str:
    """An HTTPS address on a public host. Credentials in the URL, ports outside 1-65535,
    internal names (``is_internal_name``) and addresses on the portal's own machine or
    private networks are refused, literal or resolved (``is_public_address``; the portal would
    otherwise POST into networks the authority cannot reach). A name that does not resolve
    yet is accepted: every delivery resolves it again and refuses it then if need be.
    ``WEBHOOK_ALLOW_INSECURE_URLS`` (tests and the local demo only) also allows http:// and
    local addresses."""
    url = (url or "").strip()
    insecure_ok = insecure_urls_allowed()
    try:
        URLValidator(schemes=["https", "http"] if insecure_ok else ["https"])(url)
    except ValidationError:
        raise ValidationError(
            {"url": _("Give a complete HTTPS address, such as https://licensing.example/pen.")}
        ) from None
    parts = urlsplit(url)
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValidationError({"url": _("Do not put credentials in the address.")})
    if len(url) > 500:
        raise ValidationError({"url": _("The address is longer than 500 characters.")})
    try:
        port = parts.port
    except ValueError:  # urlsplit refuses ports above 65535
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise ValidationError({"url": _("Give a port between 1 and 65535, or none.")})
    if insecure_ok:
        return url
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")  # the name as resolved at delivery
    except UnicodeError:
        raise ValidationError(
            {"url": _("Give a complete HTTPS address, such as https://licensing.example/pen.")}
        ) from None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if is_internal_name(host):
            raise ValidationError({"url": _("Give an address on a public host.")}) from None
    try:
        addresses = _addresses_of(host, port or 443)
    except (OSError, UnicodeError, ValueError):
        return url
    if not all(is_public_address(address) for address in addresses):
        raise ValidationError({"url": _("Give an address on a public host.")})
    return url


def validate_events(events) -> list[str]:
    if events is None:
        return list(WebhookEvent.values)
    unknown = [event for event in events if event not in WebhookEvent.values]
    if unknown:
        raise ValidationError({"events": _("Unknown events: %(names)s.") % {"names": ", ".join(map(str, unknown))}})
    if not events:
        raise ValidationError({"events": _("Choose at least one event.")})
    # Keep the documented order, once each.
    return [event for event in WebhookEvent.values if event in events]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


@transaction.atomic
def register_endpoint(*, actor, url: str, events=None, description: str = "", now) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for the actor's authority; returns it and its secret (shown
    to the caller once; it is needed in clear to sign, so it is kept, never displayed again)."""
    _require_manager(actor)
    errors = {}
    try:
        url = validate_endpoint_url(url)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        events = validate_events(events)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if WebhookEndpoint.objects.filter(authority_id=actor.authority_id).count() >= MAX_ENDPOINTS_PER_AUTHORITY:
        raise ValidationError(
            _("An authority may register at most %(n)d endpoints; delete one first.")
            % {"n": MAX_ENDPOINTS_PER_AUTHORITY}
        )
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        authority_id=actor.authority_id,
        url=url,
        description=(description or "").strip()[:200],
        secret=secret,
        events=events,
        created_by=actor,
        created_at=now,
    )
    return endpoint, secret


def _cancel_pending(endpoint, *, now, reason):
    WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None, lease_until=None, last_error=reason[:500]
    )


@transaction.atomic
def disable_endpoint(*, actor, endpoint: WebhookEndpoint, now, reason: str = "") -> WebhookEndpoint:
    _require_manager(actor)
    endpoint = get_endpoint_for(actor, endpoint.pk)
    reason = reason or _("Disabled by %(who)s.") % {"who": actor}
    if WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, disabled_at=now, disabled_reason=reason[:200]
    ):
        _cancel_pending(endpoint, now=now, reason=_("The endpoint was disabled."))
    endpoint.refresh_from_db()
    return endpoint


@transaction.atomic
def enable_endpoint(*, actor, endpoint: WebhookEndpoint, now) -> WebhookEndpoint:
    """Turn an endpoint back on. Deliveries stopped by the disabling that are still within
    the retry period are tried again at once."""
    _require_manager(actor)
    endpoint = get_endpoint_for(actor, endpoint.pk)
    if WebhookEndpoint.objects.filter(pk=endpoint.pk, active=False).update(
        active=True, disabled_at=None, disabled_reason="", consecutive_failures=0, failing_since=None
    ):
        WebhookDelivery.objects.filter(
            endpoint=endpoint,
            status=DeliveryStatus.FAILED,
            delivered_at__isnull=True,
            created_at__gte=now - retry_for(),
        ).update(status=DeliveryStatus.PENDING, next_attempt_at=now, lease_until=None)
    endpoint.refresh_from_db()
    return endpoint


@transaction.atomic
def delete_endpoint(*, actor, endpoint: WebhookEndpoint) -> None:
    _require_manager(actor)
    endpoint = get_endpoint_for(actor, endpoint.pk)
    endpoint.delete()


# --- delivery -------------------------------------------------------------------------


def transit_focal_points(notification):
    """The focal points of the countries on the route (read-only parties)."""
    from authorities.models import Authority

    return Authority.objects.filter(is_focal_point=True, country_id__in=notification.transits.values("country_id"))


def parties_told(notification) -> list[int]:
    """Every authority party to the shipment and INCB: the exporting and the addressed
    importing authority, the transit countries' focal points, INCB's authority (a
    suspension is everyone's to know at once)."""
    from authorities.models import Authority, AuthorityKind

    ids = [notification.exporting_authority_id, notification.importing_authority_id]
    ids += list(transit_focal_points(notification).values_list("pk", flat=True))
    ids += list(Authority.objects.filter(kind=AuthorityKind.INCB).values_list("pk", flat=True))
    return list(dict.fromkeys(ids))


def _authorities_told(message: OutboxMessage) -> list[int]:
    """The authority (or authorities) an outbox message is addressed to: the same side as
    its e-mail. Only the exporting authority and the importing focal point, both parties."""
    notification = message.notification
    if notification is None:  # another subject (an incident): its payload names who is told
        return list(message.payload.get("authorities") or [])
    if notification.submitted_at is None:  # a draft: nobody but its author knows of it
        return []
    side = message.payload.get("to") or RECIPIENTS.get(message.topic)
    if side == "all_parties":
        return parties_told(notification)
    if side == "importing_and_transit":
        return [notification.importing_authority_id, *transit_focal_points(notification).values_list("pk", flat=True)]
    sides = {"importing": ["importing"], "exporting": ["exporting"], "both": ["importing", "exporting"]}.get(side, [])
    ids = []
    for one in sides:
        ids.append(notification.importing_authority_id if one == "importing" else notification.exporting_authority_id)
    return ids


def deliver_for(message: OutboxMessage, *, now) -> int:
    """Create the deliveries an outbox message owes (once each, whatever the number of
    calls) and enqueue their first attempt after commit. Returns how many were created."""
    if message.topic not in WebhookEvent.values:
        return 0
    authority_ids = _authorities_told(message)
    if not authority_ids:
        return 0
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(authority_id__in=authority_ids, active=True)
        if message.topic in (endpoint.events or [])
    ]
    if not endpoints:
        return 0
    with transaction.atomic():
        existing = set(
            WebhookDelivery.objects.filter(message=message, endpoint__in=endpoints).values_list(
                "endpoint_id", flat=True
            )
        )
        created = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    endpoint=endpoint,
                    message=message,
                    event=message.topic,
                    created_at=now,
                    next_attempt_at=now,
                )
                for endpoint in endpoints
                if endpoint.pk not in existing
            ],
            ignore_conflicts=True,  # a concurrent dispatch of the same message
        )
        pending = list(
            WebhookDelivery.objects.filter(message=message, status=DeliveryStatus.PENDING).values_list("pk", flat=True)
        )
        for pk in pending:
            transaction.on_commit(lambda pk=pk: deliver_webhook.delay(pk))
    return len(created)


def payload_for(message: OutboxMessage) -> dict:
    """What a delivery says: the event, the reference and where to fetch it. No content."""
    if message.notification is None:  # another subject (an incident): named by its payload
        reference, path = message.payload["reference"], message.payload["api_path"]
    else:
        reference = message.notification.reference
        path = reverse("notification-detail", kwargs={"reference": reference})
    return {
        "id": message.pk,
        "event": message.topic,
        "reference": reference,
        "occurred_at": message.created_at.isoformat(),
        "url": settings.SITE_URL + path,
    }


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """The first release's recipe (body only), as a receiver would write it."""
    return hmac.compare_digest(sign(secret, body), header or "")


def sign_timed(secret: str, body: bytes, *, now) -> str:
    """``t=<unix seconds>,v1=<hex>``: the timestamp is inside the MAC, so it cannot be changed."""
    stamp = int(now.timestamp())
    mac = hmac.new(secret.encode("utf-8"), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def verify_timed(secret: str, body: bytes, header: str, *, now, tolerance=SIGNATURE_TOLERANCE) -> bool:
    """The documented receiver's recipe: a valid MAC over a timestamp near ``now``."""
    try:
        parts = dict(part.split("=", 1) for part in (header or "").split(","))
        stamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - stamp) > tolerance.total_seconds():
        return False
    expected = hmac.new(secret.encode("utf-8"), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def ca_bundle() -> str:
    """The CAs a receiver's certificate must chain to: certifi's (what requests used), or
    ``WEBHOOK_CA_BUNDLE`` (a file of PEM certificates)."""
    return _setting("WEBHOOK_CA_BUNDLE", None) or certifi.where()


def _send(url: str, address: str, body: bytes, headers: dict) -> int:
    """POST ``body`` to ``url`` over a connection to ``address``, the IP address that was
    just checked, and return the status code (urllib3's exceptions propagate).

    Why urllib3's pools and not ``requests.post(url)``: requests (urllib3 beneath it) looks
    the name up again when it connects, and that second answer need not be the one checked
    (DNS rebinding). A pool whose host is the IP address connects to it with no lookup, and
    ``server_hostname`` keeps TLS about the name: the SNI is the name, and the certificate
    is verified against the name (no ``assert_hostname``, so OpenSSL's own check,
    ``check_hostname``, does it during the handshake) and must chain to ``ca_bundle()``.
    The Host header is the name too. No proxy from the environment (a proxy would resolve
    the name itself), no retry, no redirect: a 3xx is answered to the caller as it is."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port if parts.port is not None else (443 if https else 80)
    name = parts.hostname.encode("idna").decode("ascii")
    host_header = f"[{name}]" if ":" in name else name
    if port != (443 if https else 80):
        host_header = f"{host_header}:{port}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    options = {
        "timeout": urllib3.Timeout(connect=timeout_seconds(), read=timeout_seconds()),
        "retries": False,
        "maxsize": 1,
    }
    if https:
        pool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=name, cert_reqs="CERT_REQUIRED", ca_certs=ca_bundle(), **options
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **options)
    with pool:
        response = pool.urlopen(
            "POST",
            target,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            assert_same_host=False,
            preload_content=False,  # the body is not needed, nor read, whatever its size
        )
        response.close()
        return response.status


# A name's addresses tried in turn when a connection cannot be opened (as a browser would).
MAX_ADDRESSES_TRIED = 4


def _post(url, body, headers):
    """One POST of a delivery: resolve the host once, refuse the lot if any address is not
    public, otherwise connect to the checked addresses in the resolver's order (the next
    one only when a connection cannot be opened). Returns (status code or None, reason);
    the reason is "" for a 2xx, else generic.

    The reasons are what the delivery log (API and page) shows, so never the socket's or
    the resolver's own words ("No route to host", "Connection refused", NameResolutionError):
    those would make the log a scanner of networks the client cannot see. The detail goes
    to the server log."""
    parts = urlsplit(url)
    try:
        port = parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        port, host = 0, ""
    if not host or not 1 <= port <= 65535 or parts.scheme not in ("https", "http"):
        logger.warning("Webhook %s not sent: not a deliverable address.", url)
        return None, _("The address is not valid.")
    if parts.scheme != "https" and not insecure_urls_allowed():
        logger.warning("Webhook %s not sent: not HTTPS.", url)
        return None, _("The address is not valid.")
    try:
        addresses = _addresses_of(host, port)
    except (OSError, UnicodeError, ValueError) as error:
        logger.warning("Webhook %s not sent: %s does not resolve: %r", url, host, error)
        return None, _("The host name could not be resolved.")
    if not addresses:
        logger.warning("Webhook %s not sent: %s has no address.", url, host)
        return None, _("The host name could not be resolved.")
    if not insecure_urls_allowed():
        refused = [address for address in addresses if not is_public_address(address)]
        if refused:
            logger.warning("Webhook %s not sent: %s resolves to non-public %s.", url, host, ", ".join(refused))
            return None, _("The address resolves to a non-public network address.")
    reason = _("Connection failed.")
    for address in addresses[:MAX_ADDRESSES_TRIED]:
        try:
            status_code = _send(url, address, body, headers)
        except urllib3.exceptions.NewConnectionError as error:  # before its base, ConnectTimeoutError
            logger.warning("Webhook %s: no connection to %s: %r", url, address, error)
            continue
        except urllib3.exceptions.TimeoutError as error:
            logger.warning("Webhook %s: %s timed out: %r", url, address, error)
            return None, _("Timed out.")
        except urllib3.exceptions.SSLError as error:
            logger.warning("Webhook %s: TLS with %s failed: %r", url, address, error)
            return None, _("TLS error.")
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as error:
            logger.warning("Webhook %s: POST to %s failed: %r", url, address, error)
            return None, reason
        if 200 <= status_code < 300:
            return status_code, ""
        if 300 <= status_code < 400:
            return status_code, _("HTTP %(code)d (redirects are not followed)") % {"code": status_code}
        return status_code, f"HTTP {status_code}"
    return None, reason


def attempt(delivery_id: int, *, now) -> str | None:
    """Make one attempt at one delivery if it is due and nobody else holds it. Returns the
    delivery's status afterwards, or None if there was nothing to do."""
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    if claimed != 1:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "message__notification").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, lease_until=None, last_error="The endpoint is disabled."
        )
        return DeliveryStatus.FAILED
    body = encode(payload_for(delivery.message))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PEN-Portal-Webhooks/1.0",
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.pk),
        SIGNATURE_HEADER: sign(endpoint.secret, body),
        TIMED_SIGNATURE_HEADER: sign_timed(endpoint.secret, body, now=now),
    }
    status_code, error = _post(endpoint.url, body, headers)
    return _record_attempt(delivery, now=now, status_code=status_code, error=error)


def _record_attempt(delivery: WebhookDelivery, *, now, status_code, error) -> str:
    attempts = delivery.attempts + 1
    history = [*delivery.history, {"at": now.isoformat(), "status_code": status_code, "error": error[:200]}]
    common = {
        "attempts": attempts,
        "last_status_code": status_code,
        "last_error": error[:500],
        "last_attempt_at": now,
        "lease_until": None,
        "history": history,
    }
    if status_code is not None and 200 <= status_code < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None, **common
        )
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(consecutive_failures=0, failing_since=None)
        return DeliveryStatus.DELIVERED

    if now - delivery.created_at >= retry_for():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, **common
        )
        result = DeliveryStatus.FAILED
    else:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + retry_delay(attempts), **common)
        result = DeliveryStatus.PENDING
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
        consecutive_failures=F("consecutive_failures") + 1, failing_since=Coalesce(F("failing_since"), now)
    )
    endpoint = WebhookEndpoint.objects.select_related("authority").get(pk=delivery.endpoint_id)
    if (
        endpoint.consecutive_failures >= disable_after_failures()
        and endpoint.failing_since is not None
        and now - endpoint.failing_since >= disable_after_failing_for()
    ):
        _disable_failing(endpoint, now=now)
        result = DeliveryStatus.FAILED if result == DeliveryStatus.PENDING else result
    return result


def _disable_failing(endpoint: WebhookEndpoint, *, now) -> bool:
    """Disable an endpoint that keeps failing and tell its authority, once: the conditional
    UPDATE lets only one worker do it."""
    reason = _("Disabled after %(n)d consecutive failed deliveries.") % {"n": endpoint.consecutive_failures}
    with transaction.atomic():
        won = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
            active=False, disabled_at=now, disabled_reason=reason[:200]
        )
        if not won:
            return False
        _cancel_pending(endpoint, now=now, reason=_("The endpoint was disabled after repeated failures."))
        authority = endpoint.authority
        link = settings.SITE_URL + reverse("webhooks:detail", args=[endpoint.pk])
        subject = _("PEN Portal: webhook endpoint disabled")
        body = _(
            "The webhook endpoint %(url)s of %(authority)s failed %(n)d times in a row since %(since)s and has "
            "been disabled. Events are no longer sent to it.\n\nRepair the receiver, then enable the endpoint "
            "again: %(link)s\n"
        ) % {
            "url": endpoint.url,
            "authority": authority.name,
            "n": endpoint.consecutive_failures,
            "since": for_people(endpoint.failing_since) if endpoint.failing_since else "",  # read by people
            "link": link,
        }
        transaction.on_commit(lambda: send_mail(subject, body, None, [authority.email]))
    return True


def due_deliveries(*, now, batch=500) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch]
    )


def enqueue_due(*, now) -> int:
    """The periodic retry: enqueue every delivery whose next attempt has come (an attempt
    claims its delivery, so enqueuing one twice is harmless)."""
    ids = due_deliveries(now=now)
    for pk in ids:
        deliver_webhook.delay(pk)
    return len(ids)


# --- tasks ----------------------------------------------------------------------------


@shared_task(name="messaging.deliver_webhook", acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt at one webhook delivery (claimed with a lease: a duplicate is a no-op)."""
    return attempt(delivery_id, now=timezone.now())


@shared_task(name="messaging.retry_webhook_deliveries", acks_late=True, reject_on_worker_lost=True)
def retry_webhook_deliveries() -> int:
    """Periodic: enqueue the webhook deliveries whose next attempt has come. Retries are
    scheduled in the database (next_attempt_at), never by long broker countdowns."""
    return enqueue_due(now=timezone.now())
