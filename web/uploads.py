"""A size limit on a page's file upload, enforced while the body arrives: an upload over
the limit is refused as soon as the limit is passed, never received whole (nor written to
a temporary file) first.

``@limit_upload("SETTING")`` on a view installs :class:`SizeLimitHandler` first in the
request's upload handlers, before anything reads the body. The CSRF middleware reads the
body (``request.POST``), so, as Django's documentation on changing upload handlers asks,
the view is ``csrf_exempt`` and checks CSRF itself (``csrf_protect``) once the handler is
in place. The view asks :func:`upload_too_large` after reading ``request.FILES``."""

import functools

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt, csrf_protect

# What a multipart body holds besides the file's bytes: boundaries, part headers (a long
# file name, percent-encoded), the CSRF token and a few small fields. A body whose
# Content-Length passes the limit by more than this is refused without reading it.
ENVELOPE_BYTES = 64 * 1024


class SizeLimitHandler(FileUploadHandler):
    """First in the chain. A body whose Content-Length alone passes ``max_bytes`` plus
    ENVELOPE_BYTES is not parsed at all (empty POST and FILES, nothing read). Otherwise
    each chunk is passed on and counted; when a file's count passes ``max_bytes`` the file
    is skipped before that chunk reaches the storing handlers (which then close and delete
    what they had, never more than ``max_bytes``). Either way ``too_large`` is set. A file
    of exactly ``max_bytes`` is accepted."""

    def __init__(self, request, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False
        self.received = 0

    def refuses_length(self, content_length: int) -> bool:
        if content_length > self.max_bytes + ENVELOPE_BYTES:
            self.too_large = True
        return self.too_large

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if self.refuses_length(content_length):
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None  # the handlers after this one make the file


def _content_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0  # as Django reads it: no body


def limit_upload(setting_name: str):
    """Limit the files the view receives to ``settings.<setting_name>`` bytes (read at each
    request). When the Content-Length alone is over the limit, the body is never read and
    the view is called without the CSRF check (it has no token to check): the view must
    then only render the refusal, so it asks :func:`upload_too_large` before it acts."""

    def decorate(view):
        protected = csrf_protect(view)

        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            handler = SizeLimitHandler(request, getattr(settings, setting_name))
            request.upload_handlers.insert(0, handler)
            request.upload_size_limit = handler
            if handler.refuses_length(_content_length(request)):
                return view(request, *args, **kwargs)
            return protected(request, *args, **kwargs)

        return wrapper

    return decorate


def upload_too_large(request) -> bool:
    """Whether the limit of :func:`limit_upload` refused the body or one of its files.
    Ask after ``request.FILES`` has been read."""
    handler = getattr(request, "upload_size_limit", None)
    return handler is not None and handler.too_large
