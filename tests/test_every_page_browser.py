"""Every HTML page of the portal in headless Chromium, as the roles that see it, at 1280 px
and at 390 px (issue 18, defect 3 and its acceptance lines on axe-core and screenshots).
At each width: the page does not scroll sideways (WCAG 1.4.10 reflow: the document's
``scrollWidth`` is within the viewport), axe-core finds no serious or critical violation,
and a full-page screenshot goes to ``docs/screenshots/<name>-1280.png`` and ``-390.png``.

The pages come from the URL resolver (``tests.routes.walk``): every route has its visits in
``VISITS`` or a reason in ``NOT_PAGES``, and a route with neither fails
``test_every_route_is_walked_or_says_why_not`` — a page added later is walked too, or this
says so. The error pages (403, 404, 405, 500, a refused CSRF check) are ``ERROR_PAGES``.
The sample objects (a notification in every state, an invitation, an API client, a webhook
with deliveries, a second factor) are made through the services in ``samples``; their
texts are long on purpose (an e-mail address, a URL, a file name), as real ones are."""

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, path, resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

import pen_portal.urls
from accounts import services as accounts
from accounts.models import Role
from authorities import services as closures
from chasing import services as follow_ups
from messaging import outbox, webhooks
from messaging.models import OutboxMessage
from notifications import services
from tests.browser import SCREENSHOTS, login, screenshot
from tests.conftest import PASSWORD, make_user
from tests.factories import file
from tests.routes import walk

WIDTHS = (1280, 390)
BLOCKING = ("serious", "critical")


@dataclass
class Samples:
    draft: str
    awaiting: str
    information_requested: str
    no_objection: str
    objection: str
    withdrawn: str
    overdue: str
    dispatched: str
    arrived_short: str
    suspended: str
    invitation_token: str
    invitation_pk: int
    client_pk: int
    endpoint_pk: int
    member_pk: int
    reset_uid: str
    reset_token: str
    closure_pk: int
    incident: str = ""  # issue 11: reported by NL, naming the samples' importer
    flagged: str = ""  # issue 13: sent above Ghana's pseudoephedrine estimate
    flagged_draft: str = ""  # issue 13: a draft that would go further above it
    voluntary: str = ""  # issue 12: a voluntary notification of a chemical on no list


@dataclass(frozen=True)
class Visit:
    """One page as one role sees it: ``name`` of its screenshots, the ``role`` (a key of
    ROLES), its ``path`` made from the samples, the HTTP ``status`` it answers with, whether
    it lands on another address by design (``redirects``), and whether it is the answer to
    a form sent without its security token (``forged_post``) rather than a GET."""

    name: str
    role: str
    path: object  # Callable[[Samples], str]
    status: int = 200
    redirects: bool = False
    forged_post: bool = False


def to(name, *args, query=""):
    """The path of URL ``name``; an argument that names a field of Samples is taken from it."""
    return lambda s: reverse(name, args=[getattr(s, a, a) for a in args]) + query


# Route (as tests.routes.walk spells it) -> the pages it serves, as the roles that see them.
VISITS = {
    "help/": [Visit("help", "exporter", to("pages:help"))],
    "help/exporting/": [Visit("help-exporting", "exporter", to("pages:help_exporting"))],
    "help/importing/": [Visit("help-importing", "importer", to("pages:help_importing"))],
    "help/transit/": [Visit("help-transit", "transit", to("pages:help_transit"))],
    "help/incb/": [Visit("help-incb", "incb", to("pages:help_incb"))],
    "help/administrator/": [Visit("help-administrator", "exporter_admin", to("pages:help_administrator"))],
    "accessibility/": [Visit("accessibility", "anonymous", to("pages:accessibility"))],
    "privacy/": [Visit("privacy", "anonymous", to("pages:privacy"))],
    "accounts/login/": [Visit("login", "anonymous", to("accounts:login"))],
    "accounts/password/change/": [Visit("password-change", "exporter", to("accounts:password_change"))],
    "accounts/password/change/done/": [Visit("password-change-done", "exporter", to("accounts:password_change_done"))],
    "accounts/password/reset/": [Visit("password-reset", "anonymous", to("accounts:password_reset"))],
    "accounts/password/reset/sent/": [Visit("password-reset-sent", "anonymous", to("accounts:password_reset_done"))],
    "accounts/password/reset/<uidb64>/<token>/": [
        # A valid link lands on Django's set-password address (the token moves into the session).
        Visit(
            "password-reset-new",
            "anonymous",
            to("accounts:password_reset_confirm", "reset_uid", "reset_token"),
            200,
            True,
        ),
        Visit("password-reset-invalid", "anonymous", to("accounts:password_reset_confirm", "reset_uid", "0-expired")),
    ],
    "accounts/password/reset/complete/": [
        Visit("password-reset-complete", "anonymous", to("accounts:password_reset_complete"))
    ],
    "accounts/two-factor/setup/": [Visit("two-factor-setup", "exporter", to("accounts:two_factor_setup"))],
    "accounts/two-factor/verify/": [Visit("two-factor-verify", "password_only", to("accounts:two_factor_verify"))],
    "accounts/two-factor/verify/recovery/": [
        Visit("two-factor-recovery", "password_only", to("accounts:two_factor_recovery"))
    ],
    "accounts/two-factor/recovery-codes/new/": [
        Visit("two-factor-recovery-codes-new", "verified", to("accounts:two_factor_recovery_codes_new"))
    ],
    "accounts/two-factor/recovery-codes/": [
        Visit("two-factor-recovery-codes", "verified", to("accounts:two_factor_recovery_codes"))
    ],
    "accounts/invitation/<str:token>/": [
        Visit("invitation-accept", "anonymous", to("accounts:accept_invitation", "invitation_token")),
        Visit("invitation-invalid", "anonymous", to("accounts:accept_invitation", "no-such-token"), status=404),
    ],
    "accounts/users/": [Visit("users", "exporter_admin", to("accounts:users"))],
    "accounts/users/invite/": [Visit("user-invite", "exporter_admin", to("accounts:invite"))],
    "accounts/users/invitations/<int:pk>/cancel/": [
        Visit("invitation-cancel", "exporter_admin", to("accounts:invitation_cancel", "invitation_pk"))
    ],
    "accounts/users/<int:pk>/": [
        Visit("user-edit", "exporter_admin", to("accounts:user_edit", "member_pk")),
        Visit("user-deactivate", "exporter_admin", to("accounts:user_edit", "member_pk", query="?confirm=deactivate")),
        Visit(
            "user-two-factor-reset",
            "exporter_admin",
            to("accounts:user_edit", "member_pk", query="?confirm=reset_two_factor"),
        ),
    ],
    "accounts/clients/": [Visit("api-clients", "exporter_admin", to("accounts:clients"))],
    "accounts/clients/new/": [Visit("api-client-new", "exporter_admin", to("accounts:client_create"))],
    "accounts/clients/<int:pk>/revoke/": [
        Visit("api-client-revoke", "exporter_admin", to("accounts:client_revoke", "client_pk"))
    ],
    "authorities/": [
        Visit("directory-all", "exporter", to("authorities:directory")),
        Visit("directory-ghana", "importer", to("authorities:directory", query="?q=ghana")),
    ],
    "authorities/countries/<str:code>/": [
        Visit("country-gh", "exporter", to("authorities:country", "GH")),
        # With its declared closure, and the form that declares one (issue 14).
        Visit("country-gh-incb", "incb", to("authorities:country", "GH")),
    ],
    "authorities/countries/<str:code>/closures/<int:pk>/withdraw/": [
        Visit("closure-withdraw", "incb", to("authorities:closure_withdraw", "GH", "closure_pk"))
    ],
    # Filtered: all 249 countries are the same rows, and would cost axe half a minute.
    "authorities/policies/": [Visit("policies-gu", "incb", to("authorities:policies", query="?q=gu"))],
    "authorities/policies/<str:code>/": [Visit("policy-edit", "incb", to("authorities:policy_edit", "GH"))],
    # Issue 12: INCB's special surveillance list as an authority reads it, and as INCB keeps it.
    "authorities/surveillance/": [
        Visit("surveillance-exporter", "exporter", to("authorities:surveillance")),
        Visit("surveillance-incb", "incb", to("authorities:surveillance")),
    ],
    "authorities/surveillance/add/": [Visit("surveillance-add", "incb", to("authorities:surveillance_add"))],
    "authorities/surveillance/<slug:code>/edit/": [
        Visit("surveillance-edit", "incb", to("authorities:surveillance_edit", "benzaldehyde"))
    ],
    "authorities/surveillance/<slug:code>/retire/": [
        Visit("surveillance-retire", "incb", to("authorities:surveillance_retire", "benzaldehyde"))
    ],
    # The samples' retired entry, with its history (added, changed, retired).
    "authorities/surveillance/<slug:code>/reinstate/": [
        Visit("surveillance-reinstate", "incb", to("authorities:surveillance_reinstate", "1-phenyl-2-nitropropene"))
    ],
    "authorities/surveillance/<slug:code>/history/": [
        Visit("surveillance-history", "incb", to("authorities:surveillance_history", "1-phenyl-2-nitropropene"))
    ],
    "notifications/": [
        Visit("dashboard-exporter", "exporter", to("notifications:dashboard")),
        Visit("dashboard-importer", "importer", to("notifications:dashboard")),
        Visit("dashboard-transit", "transit", to("notifications:dashboard")),
        Visit("dashboard-incb", "incb", to("notifications:dashboard")),
    ],
    "notifications/list/": [
        Visit("list-exporter", "exporter", to("notifications:list")),
    ],
    "notifications/search/": [Visit("search", "exporter", to("notifications:search", query="?q=DE-2026"))],
    "notifications/new/": [
        Visit("filing-form-new", "exporter", to("notifications:create")),
        # Issue 12: the form for each kind (the voluntary one asks why, and takes chemicals on no list).
        Visit("filing-form-voluntary", "exporter", to("notifications:create", query="?kind=voluntary")),
    ],
    "notifications/<str:reference>/": [
        Visit("detail-draft", "exporter", to("notifications:detail", "draft")),
        Visit("detail-awaiting-reply-exporter", "exporter", to("notifications:detail", "awaiting")),
        Visit("detail-awaiting-reply-importer", "importer", to("notifications:detail", "awaiting")),
        Visit("detail-information-requested", "exporter", to("notifications:detail", "information_requested")),
        Visit("detail-no-objection", "exporter", to("notifications:detail", "no_objection")),
        Visit("detail-objection", "importer", to("notifications:detail", "objection")),
        Visit("detail-withdrawn", "exporter", to("notifications:detail", "withdrawn")),
        Visit("detail-transit", "transit", to("notifications:detail", "awaiting")),
        Visit("detail-incb", "incb", to("notifications:detail", "overdue")),
        Visit("detail-discrepancy", "importer", to("notifications:detail", "arrived_short")),
        # A suspended consignment as each party and INCB sees it (issue 12).
        Visit("detail-suspended-exporter", "exporter", to("notifications:detail", "suspended")),
        Visit("detail-suspended-importer", "importer", to("notifications:detail", "suspended")),
        Visit("detail-suspended-transit", "transit", to("notifications:detail", "suspended")),
        Visit("detail-suspended-incb", "incb", to("notifications:detail", "suspended")),
        # Issue 13: above the estimate, as the importer decides, and a draft that would raise it.
        Visit("detail-flagged-importer", "importer", to("notifications:detail", "flagged")),
        Visit("detail-draft-over-estimate", "exporter", to("notifications:detail", "flagged_draft")),
        Visit("detail-voluntary-importer", "importer", to("notifications:detail", "voluntary")),
    ],
    "notifications/<str:reference>/print/": [Visit("print", "importer", to("notifications:print", "awaiting"))],
    "notifications/<str:reference>/edit/": [Visit("edit-draft", "exporter", to("notifications:edit", "draft"))],
    "notifications/<str:reference>/amend/": [Visit("amend", "exporter", to("notifications:amend", "awaiting"))],
    "notifications/<str:reference>/suspend/": [
        Visit("suspend-confirm", "transit", to("notifications:suspend", "awaiting"))
    ],
    "notifications/<str:reference>/lift-suspension/": [
        Visit("lift-suspension", "transit", to("notifications:lift_suspension", "suspended"))
    ],
    "notifications/<str:reference>/dispatch/": [
        Visit("dispatch", "exporter", to("notifications:dispatch", "no_objection"))
    ],
    "notifications/<str:reference>/arrival/": [
        Visit("arrival", "importer", to("notifications:confirm_arrival", "dispatched"))
    ],
    "notifications/<str:reference>/send/": [
        Visit("send-confirm", "exporter", to("notifications:send", "draft")),
        Visit("send-confirm-over-estimate", "exporter", to("notifications:send", "flagged_draft")),
    ],
    "notifications/<str:reference>/delete/": [Visit("delete-confirm", "exporter", to("notifications:delete", "draft"))],
    "notifications/<str:reference>/reply/": [Visit("reply", "importer", to("notifications:reply", "awaiting"))],
    "notifications/<str:reference>/withdraw/": [
        Visit("withdraw-confirm", "exporter", to("notifications:withdraw", "awaiting"))
    ],
    # An action's address opened directly: the 405 page (the action itself is a POST).
    "notifications/<str:reference>/acknowledge/": [
        Visit("error-405", "importer", to("notifications:acknowledge", "awaiting"), status=405)
    ],
    "incb/follow-up/": [Visit("follow-up-queue", "incb", to("followup:queue"))],
    # Issue 13: the estimates as every authority reads them, INCB's forms, its risk page.
    "estimates/": [
        Visit("estimates-exporter", "exporter", to("monitoring:list")),
        Visit("estimates-ghana-incb", "incb", to("monitoring:list", query="?country=GH")),
    ],
    "estimates/new/": [Visit("estimate-form", "incb", to("monitoring:create"))],
    "estimates/import/": [Visit("estimate-import", "incb", to("monitoring:import"))],
    "estimates/<str:country>/<str:substance>/": [
        Visit("estimate-history", "importer", to("monitoring:history", "GH", "pseudoephedrine"))
    ],
    "risk/": [Visit("risk-incb", "incb", to("monitoring:risk"))],
    "timeliness/": [Visit("timeliness-review-all", "incb", to("timeliness:review"))],
    "incidents/": [Visit("incidents-transit", "transit", to("incidents:list"))],
    "incidents/new/": [Visit("incident-form", "transit", to("incidents:create"))],
    "incidents/overview/": [Visit("incidents-overview", "incb", to("incidents:overview"))],
    "incidents/<str:reference>/": [
        Visit("incident-transit", "transit", to("incidents:detail", "incident")),
        Visit("incident-exporter", "exporter", to("incidents:detail", "incident")),
    ],
    "incidents/<str:reference>/amend/": [Visit("incident-amend", "transit", to("incidents:amend", "incident"))],
    "timeliness/mine/": [
        Visit("timeliness-mine-exporter", "exporter", to("timeliness:mine")),
        Visit("timeliness-mine-importer", "importer", to("timeliness:mine")),
    ],
    "timeliness/countries/<str:code>/": [Visit("timeliness-country-gh", "incb", to("timeliness:country", "GH"))],
    # With the samples' shipment that arrived short (an open discrepancy) and the one on its way.
    "timeliness/reconciliation/": [Visit("reconciliation", "incb", to("timeliness:reconciliation"))],
    "webhooks/": [Visit("webhooks", "exporter_admin", to("webhooks:list"))],
    "webhooks/<int:pk>/": [Visit("webhook-detail", "exporter_admin", to("webhooks:detail", "endpoint_pk"))],
}

ERROR_500_PATH = "/test-only/error-500/"
# Pages no route of their own serves: the error pages, as a person meets them.
ERROR_PAGES = [
    Visit("error-404", "exporter", lambda s: "/notifications/XX-1999-999999/", status=404),
    Visit("error-404-anonymous", "anonymous", lambda s: "/no-such-page/", status=404),
    Visit("error-403", "exporter", to("accounts:users"), status=403),
    Visit("error-csrf", "exporter", to("accounts:logout"), status=403, forged_post=True),
    Visit("error-500", "exporter", lambda s: ERROR_500_PATH, status=500),
]

POST_ONLY = "an action (POST only): opened directly it answers with the 405 page, walked as error-405"
# Routes that serve no HTML page of the portal, and why; a prefix ends with "/".
NOT_PAGES = {
    "": "redirects to the dashboard, walked as dashboard-*",
    "healthz": "JSON for the container's health check",
    "favicon.ico": "a redirect to the icon file",
    "accounts/logout/": POST_ONLY,
    "accounts/users/invitations/<int:pk>/resend/": POST_ONLY,
    "notifications/countries/<str:code>/signal.json": "JSON for the filing form's script",
    "authorities/countries/<str:code>/closures/": POST_ONLY,
    "notifications/list/export.csv": "a file download",
    "notifications/list/export.xlsx": "a file download",
    "notifications/<str:reference>/timeline.json": "a JSON download",
    "notifications/<str:reference>/answer/": POST_ONLY,
    "notifications/<str:reference>/explain-discrepancy/": POST_ONLY,
    "notifications/<str:reference>/shares/": POST_ONLY,
    "notifications/<str:reference>/shares/<slug:code>/revoke/": POST_ONLY,
    "notifications/<str:reference>/attachments/": POST_ONLY,
    "notifications/<str:reference>/attachments/<str:token>/": "a file download",
    "incb/follow-up/<str:reference>/": POST_ONLY,
    "timeliness/export.csv": "a file download",
    "incidents/overview/export.csv": "a file download",
    "risk/export.csv": "a file download",
    "timeliness/export.xlsx": "a file download",
    "timeliness/reconciliation/export.csv": "a file download",
    "webhooks/<int:pk>/disable/": POST_ONLY,
    "webhooks/<int:pk>/enable/": POST_ONLY,
    "webhooks/<int:pk>/delete/": POST_ONLY,
    "api/": "the REST API and its Swagger UI (JSON; docs/api.md), not the portal's pages",
    "oauth/": "the OAuth token endpoint (JSON)",
    "admin/": "Django's own admin for operators, with its own templates and styles",
}


def _not_a_page(route: str) -> bool:
    return route in NOT_PAGES or any(p.endswith("/") and route.startswith(p) for p in NOT_PAGES)


def test_every_route_is_walked_or_says_why_not():
    routes = set(walk())
    missing = sorted(r for r in routes if r not in VISITS and not _not_a_page(r))
    assert missing == [], (
        "These routes are in no browser walk: add their pages to VISITS in tests/test_every_page_browser.py "
        f"(as the roles that see them), or say in NOT_PAGES why they serve no HTML page: {missing}"
    )
    gone = sorted(set(VISITS) - routes) + sorted(r for r in NOT_PAGES if not r.endswith("/") and r not in routes)
    assert gone == [], f"No such route any more: {gone}"


def test_every_visit_has_its_own_screenshot_and_a_role_that_signs_in():
    visits = [v for vs in VISITS.values() for v in vs] + ERROR_PAGES
    names = [v.name for v in visits]
    assert len(names) == len(set(names))
    assert {v.role for v in visits} == set(ROLES)


# The 500 page needs a page that fails: the portal's URLs and one test-only route that raises
# (ROOT_URLCONF points here only during the walk, with the portal's own error handlers).
def _fail(request):
    raise RuntimeError("a deliberate failure, to show the 500 page")


urlpatterns = [path(ERROR_500_PATH.strip("/") + "/", _fail), *pen_portal.urls.urlpatterns]
handler400, handler403 = pen_portal.urls.handler400, pen_portal.urls.handler403
handler404, handler500 = pen_portal.urls.handler404, pen_portal.urls.handler500


# --- the sample objects ------------------------------------------------------------------------


@pytest.fixture
def samples(cast, settings, tmp_path, monkeypatch):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34"])  # no DNS in tests
    now = timezone.now()

    def sent(at=None, **overrides):
        return file(cast, now=at or now - timedelta(days=2), **overrides)

    draft = file(cast, now=now, draft=True)
    awaiting = sent(national_reference="EXP-2026-0042/Außenhandel-Hamburg-Hafen-Zollamt-Waltershof-000117")
    services.add_attachment(
        actor=cast.exporter_officer,
        notification=awaiting,
        upload=SimpleUploadedFile(
            "Einfuhrgenehmigung_Ghana_FDA_2026_ephedrine_hydrochloride_250kg_final_signed.pdf",
            b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
        ),
        now=now,
        max_bytes=10 * 1024 * 1024,
    )
    # An amendment, so that the detail pages show its before and after in the timeline.
    services.amend(
        actor=cast.exporter_officer,
        notification=awaiting,
        data=replace(
            services.stored_data(awaiting),
            point_of_entry="Takoradi",
            carrier="Maersk Line",
            items=[replace(services.stored_data(awaiting).items[0], quantity=Decimal("200"), packages="8 drums")],
        ),
        now=now,
    )
    asked = sent()
    question = "Which plant will receive the pseudoephedrine preparation?"
    services.respond(
        actor=cast.importer_officer, notification=asked, decision="information_requested", comment=question, now=now
    )
    no_objection = sent()
    services.respond(actor=cast.importer_officer, notification=no_objection, decision="no_objection", now=now)
    objection = sent()
    reasons = "The importer's licence does not cover this substance."
    services.respond(
        actor=cast.importer_officer, notification=objection, decision="objection", comment=reasons, now=now
    )
    # The shipment after the reply: one dispatched (its arrival awaited), one arrived short.
    dispatched, arrived_short = sent(), sent()
    for shipment in (dispatched, arrived_short):
        services.respond(actor=cast.importer_officer, notification=shipment, decision="no_objection", now=now)
        services.dispatch(
            actor=cast.exporter_officer,
            notification=shipment,
            dispatched_on=now.date(),
            quantities=[services.ShippedQuantity(1, Decimal("250"))],
            now=now,
        )
    services.confirm_arrival(
        actor=cast.importer_officer,
        notification=arrived_short,
        arrived_on=now.date(),
        quantities=[services.ShippedQuantity(1, Decimal("220"))],
        comment="Four drums arrived damaged and were weighed again.",
        now=now,
    )
    suspended = sent()
    services.suspend(
        actor=cast.transit_officer,
        notification=suspended,
        reason="The consignee's address in Tema is a residential flat; verifying with the Ghanaian authority.",
        now=now,
    )
    withdrawn = sent()
    services.withdraw(actor=cast.exporter_officer, notification=withdrawn, reason="The order was cancelled.", now=now)
    overdue = sent(at=now - timedelta(days=40))
    flagged, flagged_draft = estimate_samples(cast, now)
    follow_ups.record_follow_up(
        actor=cast.incb_reviewer, notification=overdue, channel="phone", note="Called the duty officer.", now=now
    )

    invitation, token = accounts.invite_user(
        actor=cast.exporter_admin,
        email="procurement.and.licensing.unit.precursors@bundesopiumstelle.example.org",
        role=Role.OFFICER,
        now=now,
    )
    client = accounts.create_api_client(
        authority=cast.exporter, name="Licensing system (SAP PI/PO production, Bonn)", actor=cast.exporter_admin
    )[0]
    endpoint, _secret = webhooks.register_endpoint(
        actor=cast.exporter_admin,
        url="https://licensing-system.bundesopiumstelle.example.org/integration/pen/v1/webhooks/notifications",
        description="Licensing system (production)",
        now=now,
    )
    for pk in OutboxMessage.objects.filter(dispatched_at__isnull=True).values_list("pk", flat=True):
        outbox.dispatch(pk, now=now)  # the webhook's delivery log

    ghana = cast.importer.country
    calendar = ghana.working_calendar()
    closure_day = next(d for d in (now.date() + timedelta(days=n) for n in range(30, 60)) if calendar.is_working_day(d))
    closure = closures.declare_closure(
        actor=cast.incb_reviewer,
        country=ghana,
        day=closure_day,
        reason="The Food and Drugs Authority moves to its new building in Accra",
        now=now,
    )

    from authorities import surveillance

    retired_entry = surveillance.add_entry(
        actor=cast.incb_reviewer,
        data={
            "name": "1-Phenyl-2-nitropropene",
            "cas_number": "705-60-2",
            "hs_code": "2904.20",
            "recommended_actions": "Verify the end use of every consignment above 5 kg with the importing authority.",
        },
        now=now - timedelta(days=30),
    )
    surveillance.change_entry(
        actor=cast.incb_admin, substance=retired_entry, data={"hs_code": "2904.20.00"}, now=now - timedelta(days=20)
    )
    surveillance.retire_entry(
        actor=cast.incb_admin,
        substance=retired_entry,
        now=now - timedelta(days=2),
        reason="Now controlled by the national legislation of every country that trades it; notified as such.",
    )

    verified = make_user("tfa_officer", cast.exporter, Role.OFFICER)
    TOTPDevice.objects.create(user=verified, name="phone", confirmed=True)
    password_only = make_user("tfa_viewer", cast.exporter, Role.VIEWER)
    TOTPDevice.objects.create(user=password_only, name="phone", confirmed=True)

    return Samples(
        draft=draft.reference,
        awaiting=awaiting.reference,
        information_requested=asked.reference,
        no_objection=no_objection.reference,
        objection=objection.reference,
        withdrawn=withdrawn.reference,
        overdue=overdue.reference,
        dispatched=dispatched.reference,
        arrived_short=arrived_short.reference,
        suspended=suspended.reference,
        invitation_token=token,
        invitation_pk=invitation.pk,
        client_pk=client.pk,
        endpoint_pk=endpoint.pk,
        member_pk=verified.pk,
        reset_uid=urlsafe_base64_encode(force_bytes(cast.exporter_officer.pk)),
        reset_token=default_token_generator.make_token(cast.exporter_officer),
        closure_pk=closure.pk,
        incident=sample_incident(cast, now).reference,
        flagged=flagged.reference,
        flagged_draft=flagged_draft.reference,
        voluntary=voluntary_sample(cast, now).reference,
    )


def voluntary_sample(cast, now):
    """A voluntary notification of a chemical outside the catalogue, without a deadline."""
    from notifications.services import ItemData

    return file(
        cast,
        now=now - timedelta(hours=5),
        kind="voluntary",
        suspicion="A trading company new to this trade orders 2 tonnes, pays in advance in cash and asks for "
        "unmarked drums; the consignee's address is a freight forwarder's.",
        items=[ItemData(chemical_name="Isosafrole", cas_number="120-58-1", quantity=Decimal("2000"), unit="kg")],
        end_use="",
    )


def estimate_samples(cast, now):
    """Ghana's pseudoephedrine estimate this year (300 kg), a notification sent above it (the
    importer sees the flag and what to check) and a draft that would go further (the filing
    page warns before sending), issue 13."""
    from monitoring import services as estimates
    from notifications.services import ItemData

    estimates.record_estimate(
        actor=cast.incb_reviewer,
        data=estimates.EstimateData(country="GH", substance="pseudoephedrine", year=now.year, quantity=Decimal("300")),
        now=now - timedelta(days=3),
    )

    def items(kg):
        return [ItemData(substance="pseudoephedrine", quantity=Decimal(kg), unit="kg", packages="16 drums")]

    flagged = file(cast, now=now - timedelta(days=1), items=items("400"))
    return flagged, file(cast, now=now, draft=True, items=items("120"))


def sample_incident(cast, now):
    """An incident with long texts, naming the samples' importer (issue 11)."""
    from incidents import services as incident_services
    from incidents.services import IncidentData, PartyData, SubstanceData

    return incident_services.report(
        actor=cast.transit_officer,
        data=IncidentData(
            kind="seizure",
            occurred_on=now.date() - timedelta(days=1),
            description="120 kg of ephedrine hydrochloride in drums declared as sodium chloride, found in container "
            "MSKU-1234567-8 transhipped in Rotterdam on its way to Tema.",
            modus_operandi="Mis-declared goods; the consignee's address is a freight forwarder's warehouse.",
            substances=[
                SubstanceData(substance="ephedrine", quantity=Decimal("120.000"), unit="kg"),
                SubstanceData(
                    chemical_name="Safrole oil (sassafras)", cas_number="94-59-7", quantity=Decimal("5"), unit="l"
                ),
            ],
            parties=[
                PartyData(role="importer", name="ACCRA-PHARMA LIMITED", address="12 Ring Road, Accra", country="GH"),
                PartyData(role="carrier", name="Blue Line Shipping B.V.", address="Waalhaven 1, Rotterdam"),
            ],
            route=["DE", "NL", "GH"],
        ),
        now=now,
    )


def _login_with_code(page, live_server, username):
    login(page, live_server, username, PASSWORD)
    device = TOTPDevice.objects.get(user__username=username)
    page.fill("#id_token", f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}")
    page.locator("main button[type=submit]").click()  # not the header's search
    page.wait_for_load_state()


# Role -> how its one browser context signs in (once).
ROLES = {
    "anonymous": lambda page, server: None,
    "exporter": lambda page, server: login(page, server, "exp_officer", PASSWORD),
    "exporter_admin": lambda page, server: login(page, server, "exp_admin", PASSWORD),
    "importer": lambda page, server: login(page, server, "imp_officer", PASSWORD),
    "transit": lambda page, server: login(page, server, "transit_officer", PASSWORD),
    "incb": lambda page, server: login(page, server, "incb_reviewer", PASSWORD),
    "password_only": lambda page, server: login(page, server, "tfa_viewer", PASSWORD),  # has a second factor
    "verified": lambda page, server: _login_with_code(page, server, "tfa_officer"),
}


# --- the checks on one page ----------------------------------------------------------------------

# What sticks out past the viewport (the innermost such elements), unless a scrolling box
# clips it: an absolutely positioned element is clipped only by a scrolling box that is (or
# is inside) its containing block, which is how a visually hidden word in a table cell can
# widen the page from inside a scrolling region. What to fix when the page is too wide.
WIDE_ELEMENTS = """(width) => {
  const clipped = (el) => {
    let absolute = getComputedStyle(el).position === 'absolute';
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (!absolute && ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) return true;
      if (style.position !== 'static') absolute = style.position === 'absolute' && absolute;
      if (style.position !== 'static' && ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll('*')].filter(
    (el) => el.getBoundingClientRect().right > width + 0.5 && !clipped(el));
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
    + ` (right ${Math.round(el.getBoundingClientRect().right)}px) “${(el.textContent || '').trim().slice(0, 40)}”`;
  return wide.filter((el) => !wide.some((o) => o !== el && el.contains(o))).slice(0, 6).map(describe);
}"""

# axe-core comes from the pinned axe-playwright-python package, which bundles axe.min.js.
# It is put into the page with Playwright's evaluate (the DevTools protocol), which the
# page's Content-Security-Policy does not govern: no bypass_csp, the pages are checked
# under the CSP they really have.
AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(' '))}));
}"""


def check(page, visit, width) -> list[str]:
    problems = []
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        wide = page.evaluate(WIDE_ELEMENTS, width)
        problems.append(f"{visit.name} @{width}px: the page is {scroll_width}px wide; too wide: {wide}")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    for violation in page.evaluate(AXE_RUN):
        if violation["impact"] in BLOCKING:
            problems.append(
                f"{visit.name} @{width}px: axe {violation['id']} ({violation['impact']}, {violation['help']}) "
                f"at {violation['targets'][:5]}"
            )
    screenshot(page, f"{visit.name}-{width}")
    return problems


def open_page(page, live_server, visit, path):
    """Open the visit's page at the wide width; its HTTP answer."""
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    if not visit.forged_post:
        return page.goto(live_server.url + path)
    # A form sent without its CSRF token (as after the session ended in another tab).
    page.goto(live_server.url + reverse("notifications:dashboard"))
    with page.expect_navigation() as navigation:
        page.evaluate(
            "(action) => { const form = document.createElement('form'); form.method = 'post';"
            " form.action = action; document.body.append(form); form.submit(); }",
            path,
        )
    return navigation.value


def walk_as(browser, live_server, samples, role) -> list[str]:
    visits = [v for vs in VISITS.values() for v in vs if v.role == role] + [v for v in ERROR_PAGES if v.role == role]
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    page = context.new_page()
    problems = []
    try:
        ROLES[role](page, live_server)
        for visit in visits:
            path = visit.path(samples)
            if visit not in ERROR_PAGES:
                try:
                    route = resolve(path.split("?")[0]).route
                except Resolver404:
                    route = None
                assert visit in VISITS.get(route, []), f"{visit.name}: {path} is not a page of the route {route}"
            try:
                response = open_page(page, live_server, visit, path)
            except Exception as error:  # Chromium refuses to show an error answer without a body
                problems.append(f"{visit.name}: {path} shows no page: {error}".splitlines()[0])
                continue
            if response.status != visit.status:
                problems.append(f"{visit.name}: {path} answered {response.status}, not {visit.status}")
                continue
            if not visit.redirects and not visit.forged_post and not page.url.endswith(path):
                problems.append(f"{visit.name}: {path} landed on {page.url}")
                continue
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                problems += check(page, visit, width)
    finally:
        context.close()
    return problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_checks_catch_a_wide_element_and_an_axe_violation_under_the_real_csp(page, live_server, cast):
    """The walk's checks can fail: on the login page (its real Content-Security-Policy,
    no bypass) a picture without a text alternative (axe's critical image-alt) and a box
    wider than a phone are both reported."""
    response = page.goto(f"{live_server.url}{reverse('accounts:login')}")
    assert "script-src" in response.headers["content-security-policy"]
    visit = Visit("login-broken-on-purpose", "anonymous", to("accounts:login"))
    page.evaluate(
        "() => { const img = document.createElement('img'); img.src = '/static/favicon.svg';"
        " const box = document.createElement('div'); box.className = 'too-wide'; box.textContent = 'x';"
        " box.style.width = '600px'; document.querySelector('main').append(img, box); }"
    )
    page.set_viewport_size({"width": 390, "height": 900})
    problems = check(page, visit, 390)
    assert any("axe image-alt (critical" in p for p in problems), problems
    assert any("too wide" in p and "div.too-wide" in p for p in problems), problems
    (SCREENSHOTS / "login-broken-on-purpose-390.png").unlink()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_fits_a_phone_and_passes_axe(browser, live_server, samples, settings, role):
    settings.ROOT_URLCONF = __name__  # the portal's URLs and the page that fails (ERROR_PAGES' 500)
    problems = walk_as(browser, live_server, samples, role)
    assert problems == [], "\n".join(problems)
