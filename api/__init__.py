"""The REST API's plumbing shared by every app's endpoints: the error body and handler,
Idempotency-Key handling and its records, the OpenAPI security scheme and the error
responses every endpoint documents. The route table itself is pen_portal.rest_routes."""
