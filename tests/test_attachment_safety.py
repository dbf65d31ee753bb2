"""Attachments are user input twice over: the content and the name. Issue 16, finding 6.

The served name's extension follows the sniffed type (a PDF named ``Report.html`` is
served as ``Report.pdf``, with ``application/pdf`` and ``nosniff``); the base name is
cleaned of path parts, control and bidi characters and bounded; and an upload over
``ATTACHMENT_MAX_BYTES`` is refused as soon as the limit is passed, not after the whole
body has been received. Each test asserts the status code, then the rows, then what was
read and stored."""

import io
import re

import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications import services
from notifications.models import Attachment, EventKind
from tests.factories import file

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
BOUNDARY = "----PenPortalTestBoundary7MA4YWxkTrZu0gW"


def now():
    return timezone.now()


def url(name, notification, *args):
    return reverse(f"notifications:{name}", args=[notification.reference, *args])


def pdf_of(size: int) -> bytes:
    return (PDF + b"\x00" * size)[:size]


def error_beside_the_file_field(response, message):
    """The message is in the file field's own block, before its input."""
    html = response.content.decode()
    return re.search(
        r'class="field field-error">(?:(?!class="field).)*?' + re.escape(message) + r'.*?name="file"', html, re.S
    )


@pytest.fixture
def login(client):
    def as_user(user):
        client.logout()
        client.force_login(user)
        return client

    return as_user


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    """Private storage and the upload temp folder in the test's own folders, to show that
    nothing is left behind."""
    (tmp_path / "uploads").mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }
    return tmp_path


def stored_files(tmp_path):
    return [p for p in tmp_path.rglob("*") if p.is_file()]


# --- the name follows the content ----------------------------------------------------------


def test_a_pdf_named_html_is_stored_and_served_as_report_pdf(login, cast):
    notification = file(cast, now=now())
    client = login(cast.exporter_officer)
    upload = SimpleUploadedFile("Report.html", PDF, content_type="text/html")
    response = client.post(url("upload_attachment", notification), {"file": upload})

    assert response.status_code == 302
    attachment = Attachment.objects.get(notification=notification)
    assert attachment.original_name == "Report.pdf"
    assert attachment.content_type == "application/pdf"
    assert notification.events.get(kind=EventKind.ATTACHMENT_ADDED).detail == "Report.pdf"

    download = login(cast.importer_officer).get(url("attachment", notification, attachment.token))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="Report.pdf"'
    assert b"".join(download.streaming_content) == PDF


@pytest.mark.parametrize(
    ("uploaded", "extension", "served"),
    [
        ("Report.html", "pdf", "Report.pdf"),
        ("scan.PDF.exe", "pdf", "scan.PDF.pdf"),  # only the last extension is replaced
        ("permit.PDF", "pdf", "permit.pdf"),
        ("photo.jpeg", "jpg", "photo.jpg"),
        ("stamp.png.jpg", "png", "stamp.png.png"),
        ("Import permit", "pdf", "Import permit.pdf"),  # no extension: one is added
        ("Letter from Dr. Smith", "pdf", "Letter from Dr. Smith.pdf"),  # not an extension
        ("permit v1.2", "pdf", "permit v1.2.pdf"),  # digits only: not an extension
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("C:\\Users\\officer\\permit.pdf", "pdf", "permit.pdf"),
        ("invoice\u202efdp.exe", "pdf", "invoicefdp.pdf"),  # right-to-left override
        ("per\x00mit\x1b.pdf", "pdf", "permit.pdf"),  # NUL, ESC
        ("Import\r\npermit\t.pdf", "pdf", "Import permit.pdf"),  # CR, LF, tab: spaces
        ("zero\u200bwidth\ufeff.pdf", "pdf", "zerowidth.pdf"),
        (".htaccess", "pdf", "attachment.pdf"),  # only an extension: no base name
        (".hidden.html", "pdf", "hidden.pdf"),  # never a hidden file
        ("  Report   final  .html", "pdf", "Report final.pdf"),
        ("Report..html", "pdf", "Report.pdf"),
        ("Report.HTML. ", "pdf", "Report.pdf"),  # Windows drops trailing dots and spaces
        ('a "quoted" <name>|?*:.pdf', "pdf", "a _quoted_ _name_____.pdf"),
        ("Genehmigung für Ghana.pdf", "pdf", "Genehmigung für Ghana.pdf"),
        ("", "pdf", "attachment.pdf"),
        ("../", "png", "attachment.png"),
        ("\u202e\x00 . .pdf", "pdf", "attachment.pdf"),
        (None, "jpg", "attachment.jpg"),
    ],
)
def test_the_served_name_is_the_cleaned_base_name_with_the_detected_extension(uploaded, extension, served):
    assert services.attachment_name(uploaded, extension) == served
    assert services.attachment_name(served, extension) == served  # a stored name is served as it is


def test_a_very_long_name_is_bounded_and_keeps_its_extension():
    name = services.attachment_name("Ä" * 500 + ".html", "pdf")
    assert name.endswith("Ä.pdf")
    assert len(name) == services.ATTACHMENT_NAME_MAX_LENGTH
    assert len(name) <= Attachment._meta.get_field("original_name").max_length


def test_a_hostile_name_given_to_the_service_is_cleaned_and_served_safely(login, cast):
    """The service is the one write path, whoever calls it: a name that never went through
    Django's multipart parser (which strips some of this) is cleaned there too."""
    notification = file(cast, now=now())
    upload = File(io.BytesIO(PNG), name="..\\..\\x/../Pr\u00fcfung\u202egnp.exe\x00\r\nSet-Cookie: a=b.html")
    attachment = services.add_attachment(
        actor=cast.exporter_officer, notification=notification, upload=upload, now=now(), max_bytes=MB
    )
    attachment.refresh_from_db()
    assert attachment.original_name == "Prüfunggnp.exe Set-Cookie_ a=b.png"
    assert attachment.content_type == "image/png"

    download = login(cast.importer_officer).get(url("attachment", notification, attachment.token))
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == (
        "attachment; filename*=utf-8''Pr%C3%BCfunggnp.exe%20Set-Cookie_%20a%3Db.png"
    )
    assert notification.events.get(kind=EventKind.ATTACHMENT_ADDED).detail == attachment.original_name


def test_an_old_row_is_still_served_with_the_extension_of_its_stored_type(login, cast):
    """A row written before names were cleaned is served by the same rule."""
    notification = file(cast, now=now())
    attachment = services.add_attachment(
        actor=cast.exporter_officer,
        notification=notification,
        upload=SimpleUploadedFile("permit.pdf", PDF),
        now=now(),
        max_bytes=MB,
    )
    Attachment.objects.filter(pk=attachment.pk).update(original_name="../Report\u202e.html")
    download = login(cast.importer_officer).get(url("attachment", notification, attachment.token))
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="Report.pdf"'


def test_the_download_says_nosniff_itself_and_is_never_cached(login, settings, cast):
    """Not only through SecurityMiddleware's setting: the view sets it on the one response
    whose body is a user's upload."""
    settings.SECURE_CONTENT_TYPE_NOSNIFF = False
    notification = file(cast, now=now())
    attachment = services.add_attachment(
        actor=cast.exporter_officer,
        notification=notification,
        upload=SimpleUploadedFile("permit.pdf", PDF),
        now=now(),
        max_bytes=MB,
    )
    download = login(cast.importer_officer).get(url("attachment", notification, attachment.token))
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Cache-Control"] == "private, no-store"
    assert download["Content-Type"] == "application/pdf"


# --- the size limit is enforced while the body arrives ----------------------------------------


class StreamedBody:
    """A multipart request body made on demand (never whole in memory), which counts the
    bytes the server reads from it."""

    def __init__(self, token: str, file_size: int, filename: str = "big.pdf"):
        self.prefix = (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
            f"{token}\r\n"
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode() + PDF
        self.filler = file_size - len(PDF)
        self.suffix = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.length = len(self.prefix) + self.filler + len(self.suffix)
        self.position = 0

    @property
    def read_bytes(self):
        return self.position

    def read(self, size=-1):
        if size is None or size < 0:
            size = self.length - self.position
        out = bytearray()
        while size > 0 and self.position < self.length:
            position = self.position
            if position < len(self.prefix):
                piece = self.prefix[position : position + size]
            elif position < len(self.prefix) + self.filler:
                piece = b"\x00" * min(size, len(self.prefix) + self.filler - position)
            else:
                start = position - len(self.prefix) - self.filler
                piece = self.suffix[start : start + size]
            out += piece
            self.position += len(piece)
            size -= len(piece)
        return bytes(out)

    def readline(self, size=-1):
        return self.read(size if size and size > 0 else 64 * 1024)


def browser(user):
    """A client that checks CSRF as production does (the middleware then reads the body)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def post_streamed(client, path, body):
    return client.generic(
        "POST",
        path,
        **{
            "wsgi.input": body,
            "CONTENT_LENGTH": str(body.length),
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        },
    )


def test_a_40_mb_upload_is_refused_before_its_body_is_read(cast, storage):
    notification = file(cast, now=now())
    client = browser(cast.exporter_officer)
    client.get(url("detail", notification))
    token = client.cookies["csrftoken"].value
    body = StreamedBody(token, 40 * MB, filename="Report.pdf")

    response = post_streamed(client, url("upload_attachment", notification), body)

    assert response.status_code == 413
    assert error_beside_the_file_field(response, "The file is larger than 10 MB.")
    assert body.read_bytes == 0  # measured: the limit is passed by Content-Length alone
    assert not Attachment.objects.exists()
    assert not notification.events.filter(kind=EventKind.ATTACHMENT_ADDED).exists()
    assert stored_files(storage) == []


def test_a_large_body_without_a_csrf_token_is_only_refused(cast, storage):
    """Refused by its Content-Length, the body is never read, so its token is not checked:
    the view then renders the refusal and does nothing else."""
    notification = file(cast, now=now())
    version = notification.version
    body = StreamedBody("not-a-token", 40 * MB)
    response = post_streamed(browser(cast.exporter_officer), url("upload_attachment", notification), body)
    assert response.status_code == 413
    assert body.read_bytes == 0
    notification.refresh_from_db()
    assert notification.version == version
    assert not Attachment.objects.exists()
    assert stored_files(storage) == []


def test_an_outsider_posting_a_large_body_gets_404_and_nothing_is_read(cast):
    notification = file(cast, now=now())
    client = browser(cast.outsider_officer)
    body = StreamedBody("x" * 32, 40 * MB)
    response = post_streamed(client, url("upload_attachment", notification), body)
    assert response.status_code == 404
    assert body.read_bytes == 0


class Tally(FileUploadHandler):
    """Stands for the handlers that store the upload (memory, temporary file): counts the
    bytes of each file that reach them."""

    received: list[int] = []

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        Tally.received.append(0)

    def receive_data_chunk(self, raw_data, start):
        Tally.received[-1] += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def tally(settings):
    Tally.received = []
    settings.FILE_UPLOAD_HANDLERS = ["tests.test_attachment_safety.Tally", *settings.FILE_UPLOAD_HANDLERS]
    return Tally.received


def test_a_file_one_byte_over_the_limit_is_cut_off_at_the_limit_and_refused(login, settings, cast, tally, storage):
    """Content-Length within the envelope's margin: the running total is checked chunk by
    chunk, and no byte past the limit reaches the handlers that store the file."""
    settings.ATTACHMENT_MAX_BYTES = MB
    notification = file(cast, now=now())
    response = login(cast.exporter_officer).post(
        url("upload_attachment", notification), {"file": SimpleUploadedFile("permit.pdf", pdf_of(MB + 1))}
    )

    assert response.status_code == 413
    assert error_beside_the_file_field(response, "The file is larger than 1 MB.")
    assert len(tally) == 1 and tally[0] <= MB  # measured at the storing handlers
    assert not Attachment.objects.exists()
    assert stored_files(storage) == []


def test_a_file_exactly_at_the_limit_is_accepted(login, settings, cast, tally):
    settings.ATTACHMENT_MAX_BYTES = MB
    notification = file(cast, now=now())
    response = login(cast.exporter_officer).post(
        url("upload_attachment", notification), {"file": SimpleUploadedFile("permit.pdf", pdf_of(MB))}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get(notification=notification)
    assert attachment.size == MB
    assert tally == [MB]
    assert attachment.file.read() == pdf_of(MB)


def test_the_upload_still_needs_its_csrf_token(cast):
    """The view is csrf_exempt only to install the size guard first; it checks the token
    itself."""
    notification = file(cast, now=now())
    client = browser(cast.exporter_officer)
    client.get(url("detail", notification))
    upload = SimpleUploadedFile("permit.pdf", PDF)
    assert client.post(url("upload_attachment", notification), {"file": upload}).status_code == 403
    assert not Attachment.objects.exists()

    upload = SimpleUploadedFile("permit.pdf", PDF)
    token = client.cookies["csrftoken"].value
    response = client.post(url("upload_attachment", notification), {"file": upload, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Attachment.objects.get(notification=notification).original_name == "permit.pdf"
