"""Serializers of the webhook endpoints' REST API (field names are fixed by docs/api.md)."""

from rest_framework import serializers

from .models import WebhookEndpoint, WebhookEvent


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text="An HTTPS address of your licensing system.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        required=False,
        max_length=len(WebhookEvent.values),
        help_text="The events to receive; all of them if left out.",
    )
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "active",
            "consecutive_failures",
            "failing_since",
            "disabled_at",
            "disabled_reason",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "active": {"help_text": "False once disabled (by you, or after repeated failed deliveries)."},
            "consecutive_failures": {"help_text": "Failed attempts since the last successful delivery."},
        }


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret. Shown in this response only: store it now.", read_only=True
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField()
    reference = serializers.CharField(
        source="message.subject_reference", help_text="The notification (or incident) the event is about."
    )
    message_id = serializers.IntegerField(help_text="The `id` in the delivered body.")
    status = serializers.CharField(help_text="`pending`, `delivered` or `failed` (no more attempts).")
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(
        help_text="Why the last attempt failed, in general terms (`Connection failed.`, `Timed out.`, `TLS error.`, "
        "`HTTP 503`, ...); empty after a success."
    )
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
