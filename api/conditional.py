"""``If-Match`` for every resource with a ``version`` and its ``etag`` (notifications,
incidents): one reading of the header, so that ``*``, weak tags and lists mean the same
everywhere."""

from .errors import PreconditionRequired


def expected_version(request, resource) -> int | None:
    """The version an ``If-Match`` header names: the current one if it matches, 0 (never a
    version) if it does not, so that the service refuses it with its StaleVersion (412)
    after its own checks. No header, or ``*``: no condition."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = [tag.strip() for tag in header.split(",") if tag.strip()]
    if "*" in tags:
        return None
    tags = [tag[2:] if tag.startswith("W/") else tag for tag in tags]
    return resource.version if resource.etag in tags else 0


def required_version(request, resource) -> int:
    """expected_version for a change that must name a version: no ``If-Match`` is 428."""
    if request.headers.get("If-Match") is None:
        raise PreconditionRequired()
    version = expected_version(request, resource)
    return resource.version if version is None else version
