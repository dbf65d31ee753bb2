"""REST API of webhook endpoints: an authority's licensing system registers, lists,
enables, disables and deletes its endpoints and reads their delivery logs."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from api import idempotency
from api.permissions import HasRequiredScope
from api.responses import IDEMPOTENCY_KEY, R400, R401, R403, R404, R409, R422, EmptyInputSerializer, validated

from . import webhooks
from .serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSerializer,
)

WRITE = "notifications:write"


class MayManageWebhooks(BasePermission):
    message = "Only your authority's administrators, or its licensing systems, manage webhooks."

    def has_permission(self, request, view):
        return webhooks.may_manage(request.user)


class DeliveryPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


WEBHOOK_DESCRIPTION = (
    "Webhook endpoints of your authority. Each event on a notification your authority is party to is POSTed "
    'to every active endpoint subscribed to it, as JSON `{"id", "event", "reference", "occurred_at", "url"}` '
    "(never the notification's content: fetch `url` with your token). Headers: `X-PEN-Event`, "
    "`X-PEN-Delivery` and `X-PEN-Timed-Signature: t=<unix seconds>,v1=<hex>`, the HMAC-SHA256 of "
    "`<t>.` followed by the raw body, keyed with the endpoint's secret: verify it with a constant-time "
    "comparison and refuse a `t` more than 5 minutes from your clock (a replayed delivery), before trusting "
    "the body. (`X-PEN-Signature: sha256=<hex>`, over the body alone, is deprecated.) Answer with a "
    "2xx within 10 seconds; otherwise the delivery is retried with exponential backoff (1 minute, doubling, "
    "at most 2 hours apart) for at least 24 hours. The same event may arrive more than once: de-duplicate by "
    "`id`. After a run of consecutive failures the endpoint is disabled and your authority e-mailed. "
    "The host is resolved at every attempt: if any of its addresses is not public (this machine, private, "
    "link-local, shared or reserved networks, in IPv4 or any IPv6 form), nothing is sent and the attempt "
    "fails. Redirects are not followed (a 3xx is a failed attempt). The delivery log gives a generic reason "
    "for a failure (`Connection failed.`, `Timed out.`, `TLS error.`, `HTTP 500`, ...), never the network's. "
    "Administrators of the authority (session) or licensing systems with scope `notifications:write`."
)
WEBHOOK_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The endpoint's id.")


@extend_schema_view(
    list=extend_schema(
        summary="List webhook endpoints",
        description=WEBHOOK_DESCRIPTION,
        responses={200: WebhookEndpointSerializer(many=True), 401: R401, 403: R403},
        tags=["webhooks"],
    ),
    retrieve=extend_schema(
        summary="One webhook endpoint",
        description=WEBHOOK_DESCRIPTION,
        parameters=[WEBHOOK_ID],
        responses={200: WebhookEndpointSerializer, 401: R401, 403: R403, 404: R404},
        tags=["webhooks"],
    ),
    create=extend_schema(
        summary="Register a webhook endpoint",
        description=WEBHOOK_DESCRIPTION + "\n\nThe response holds the signing `secret`, shown this once.",
        request=WebhookEndpointInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: WebhookEndpointCreatedSerializer, 400: R400, 401: R401, 403: R403, 409: R409, 422: R422},
        tags=["webhooks"],
    ),
    destroy=extend_schema(
        summary="Delete a webhook endpoint",
        description="Deletes the endpoint and its delivery log.",
        parameters=[WEBHOOK_ID],
        responses={204: None, 401: R401, 403: R403, 404: R404},
        tags=["webhooks"],
    ),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    permission_classes = [IsAuthenticated, HasRequiredScope, MayManageWebhooks]
    required_scopes = [WRITE]
    serializer_class = WebhookEndpointSerializer
    pagination_class = None
    queryset = webhooks.WebhookEndpoint.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return webhooks.endpoints_for(self.request.user)

    def get_object(self):
        return webhooks.get_endpoint_for(self.request.user, self.kwargs["pk"])

    def create(self, request):
        return idempotency.run(self, request, lambda: self._create(request))

    def _create(self, request):
        data = validated(WebhookEndpointInputSerializer, request.data).validated_data
        endpoint, secret = webhooks.register_endpoint(
            actor=request.user,
            url=data["url"],
            events=data.get("events"),
            description=data.get("description", ""),
            now=timezone.now(),
        )
        endpoint.secret = secret
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        webhooks.delete_endpoint(actor=self.request.user, endpoint=instance)

    def _toggle(self, request, pk, service):
        def work():
            endpoint = webhooks.get_endpoint_for(request.user, pk)
            endpoint = service(actor=request.user, endpoint=endpoint, now=timezone.now())
            return Response(WebhookEndpointSerializer(endpoint).data)

        return idempotency.run(self, request, work)

    @extend_schema(
        summary="Enable a webhook endpoint",
        description="Turns a disabled endpoint back on and resets its failure count; deliveries stopped by the "
        "disabling that are less than 24 hours old are tried again at once.",
        request=EmptyInputSerializer,
        parameters=[WEBHOOK_ID, IDEMPOTENCY_KEY],
        responses={200: WebhookEndpointSerializer, 401: R401, 403: R403, 404: R404, 409: R409, 422: R422},
        tags=["webhooks"],
    )
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        return self._toggle(request, pk, webhooks.enable_endpoint)

    @extend_schema(
        summary="Disable a webhook endpoint",
        description="Stops deliveries to the endpoint; pending ones are stopped too.",
        request=EmptyInputSerializer,
        parameters=[WEBHOOK_ID, IDEMPOTENCY_KEY],
        responses={200: WebhookEndpointSerializer, 401: R401, 403: R403, 404: R404, 409: R409, 422: R422},
        tags=["webhooks"],
    )
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        return self._toggle(request, pk, webhooks.disable_endpoint)

    @extend_schema(
        summary="Delivery log of a webhook endpoint",
        description="Every event owed to the endpoint, newest first: attempts, last status code or error (a "
        "generic reason, never the network's own message), next attempt, delivery time.",
        parameters=[WEBHOOK_ID],
        responses={200: WebhookDeliverySerializer(many=True), 401: R401, 403: R403, 404: R404},
        tags=["webhooks"],
    )
    @action(detail=True, methods=["get"], pagination_class=DeliveryPagination)
    def deliveries(self, request, pk=None):
        endpoint = webhooks.get_endpoint_for(request.user, pk)
        queryset = endpoint.deliveries.select_related("message__notification").order_by("-created_at", "-pk")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
