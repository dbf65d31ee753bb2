"""Webhook addresses (issue 16, finding 3): the portal must never be made to POST into its own
machine or a private network. Registration refuses what is visibly internal; every delivery
resolves the name once, refuses every non-public address of every record, connects to the
address it checked (TLS still verified for the name), follows no redirect, and tells the
client a generic reason, never the socket's error.

Name resolution is stubbed (``webhooks.resolve``) and every socket urllib3 opens goes through
the ``network`` fixture, which records where it was asked to connect and sends it to a local
receiver (or refuses it): nothing leaves the machine."""

import datetime
import errno
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import Client
from django.utils import timezone

from messaging import webhooks
from messaging.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.api_helpers import bearer, token_for
from tests.factories import file
from tests.test_webhooks import HOOKS, dispatch_all, register

pytestmark = pytest.mark.django_db

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
NON_PUBLIC = "The address resolves to a non-public network address."
RAW_SOCKET_WORDS = ("errno", "no route", "newconnectionerror", "nameresolution", "gaierror", "max retries", "ssl:")


# --- the stubs ------------------------------------------------------------------------


class DNS:
    """``webhooks.resolve`` for the tests: names map to address lists; anything else does not
    resolve (as on a machine without DNS)."""

    def __init__(self):
        self.records = {}
        self.calls = []

    def __call__(self, host, port):
        self.calls.append((host, port))
        answer = self.records.get(host)
        if isinstance(answer, BaseException):
            raise answer
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(answer)


@pytest.fixture
def dns(monkeypatch):
    stub = DNS()
    # raising=False: so that the tests run, and fail on their assertions, before the fix too.
    monkeypatch.setattr(webhooks, "resolve", stub, raising=False)
    return stub


class Network:
    def __init__(self):
        self.connects = []
        self.target = None  # (host, port) of a local receiver; None: every connection fails


@pytest.fixture
def network(monkeypatch):
    """urllib3 opens every connection with ``urllib3.util.connection.create_connection``:
    record the (host, port) it was asked for, then connect to the local receiver instead."""
    net = Network()
    real = socket.create_connection

    def create_connection(address, timeout=None, source_address=None, socket_options=None):
        net.connects.append(address)
        if net.target is None:
            raise OSError(errno.EHOSTUNREACH, "No route to host")
        return real(net.target, timeout=timeout if isinstance(timeout, int | float) else 5)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return net


# --- a TLS receiver with a certificate of a test CA -------------------------------------------


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory):
    """A CA of the tests, and a way to issue server certificates for a name."""
    folder = tmp_path_factory.mktemp("webhook-tls")
    now = datetime.datetime.now(datetime.UTC)
    ca_key = _key()
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("PEN test CA"))
        .issuer_name(_name("PEN test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

    def issue(dns_name):
        key = _key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(dns_name))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        chain = folder / f"{dns_name}.pem"
        chain.write_bytes(
            cert.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return chain

    return str(ca_file), issue


class TLSReceiver:
    """An HTTPS server on 127.0.0.1 with a certificate for ``name``: records the server name
    each client asked for (SNI) and each request's headers, and answers with the scripted
    (status, headers) pairs, then 200."""

    def __init__(self, chain, answers=()):
        self.answers = list(answers)
        self.server_names = []
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(dict(self.headers))
                status, headers = receiver.answers.pop(0) if receiver.answers else (200, {})
                self.send_response(status)
                for header, value in headers.items():
                    self.send_header(header, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain)
        context.sni_callback = lambda sock, server_name, ctx: receiver.server_names.append(server_name)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.address = ("127.0.0.1", self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tls_receiver(tls_ca, settings, network):
    """Make a receiver for a name and route every connection of the delivery to it."""
    ca_file, issue = tls_ca
    settings.WEBHOOK_CA_BUNDLE = ca_file
    made = []

    def make(name="licensing.example.org", answers=()):
        made.append(TLSReceiver(issue(name), answers))
        network.target = made[-1].address
        return made[-1]

    yield make
    for one in made:
        one.close()


def one_delivery(cast, url, now):
    endpoint, _secret = register(cast.importer_admin, url, now=now)
    file(cast, now=now)
    dispatch_all(now)
    return endpoint, WebhookDelivery.objects.get(endpoint=endpoint)


def deliveries_api(cast, endpoint):
    admin = Client()
    admin.force_login(cast.importer_admin)
    return admin.get(f"{HOOKS}{endpoint.pk}/deliveries/").json()["results"], admin.get(
        f"/webhooks/{endpoint.pk}/"
    ).content.decode()


# --- one function decides what is public ------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "233.252.0.1",
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fec0::1",  # site-local (deprecated)
        "ff02::1",
        "ff0e::1",  # global-scope multicast
        "2001:db8::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:a9fe:a9fe",
        "::127.0.0.1",  # IPv4-compatible: how [::127.0.0.1] parses
        "::a9fe:a9fe",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "64:ff9b:1::1",  # local-use NAT64
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "not an address",
    ],
)
def test_non_public_addresses_in_every_spelling_are_not_public(address):
    assert webhooks.is_public_address(address) is False


@pytest.mark.parametrize(
    "address", [PUBLIC_V4, "8.8.8.8", PUBLIC_V6, "2002:5db8:d822::1", "64:ff9b::5db8:d822", "::ffff:93.184.216.34"]
)
def test_public_addresses_are_public_also_when_they_embed_a_public_ipv4(address):
    assert webhooks.is_public_address(address) is True


# --- registration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        # The finding's examples.
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://127.0.0.1.nip.io/",
        "https://localhost.localdomain/",
        "https://[::127.0.0.1]:8443/",
        "https://licensing.example.org:99999/pen",
        # The same class of defect.
        "https://licensing.example.org:0/pen",
        "https://foo.localhost./pen",  # a trailing dot
        "https://printer.local./",
        "https://localhost.localdomain./",
        "https://db.corp/",
        "https://nas.home.arpa/",
        "https://router.lan/",
        "https://[::a9fe:a9fe]/",  # IPv4-compatible 169.254.169.254
        "https://[2002:a9fe:a9fe::]/",  # 6to4
        "https://[64:ff9b::a00:5]/",  # NAT64
        "https://[fec0::1]/",
        "https://[ff0e::1]/",
        "https://224.0.0.1/",
        "https://metadata.example.org/",  # resolves to 169.254.169.254
        "https://rebind.example.org/",  # resolves to ::1
        "https://mixed.example.org/",  # one public and one private record
    ],
)
def test_internal_names_non_public_addresses_and_bad_ports_are_refused_at_registration(client, cast, dns, url):
    dns.records.update(
        {
            "127.0.0.1.nip.io": ["127.0.0.1"],
            "metadata.example.org": ["169.254.169.254"],
            "rebind.example.org": ["::1"],
            "mixed.example.org": [PUBLIC_V4, "10.0.0.5"],
        }
    )
    token = bearer(token_for(client, cast.importer))
    response = client.post(HOOKS, {"url": url}, content_type="application/json", headers=token)
    assert response.status_code == 400, response.content
    assert "url" in response.json()
    assert not WebhookEndpoint.objects.exists()


def test_the_page_refuses_an_internal_name_with_a_clear_message(cast, dns):
    admin = Client()
    admin.force_login(cast.importer_admin)
    response = admin.post(
        "/webhooks/", {"url": "https://metadata.google.internal/", "events": ["notification.received"]}
    )
    assert response.status_code == 200 and "public host" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_page_refuses_a_port_out_of_range_with_a_clear_message(cast, dns):
    admin = Client()
    admin.force_login(cast.importer_admin)
    response = admin.post(
        "/webhooks/", {"url": "https://licensing.example.org:99999/", "events": ["notification.received"]}
    )
    assert response.status_code == 200 and "65535" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


# --- delivery ---------------------------------------------------------------------------------


@pytest.mark.parametrize("private", ["10.0.0.5", "169.254.169.254", "::1"])
def test_a_public_name_that_resolves_to_a_private_address_at_delivery_is_never_connected_to(
    cast, dns, network, private
):
    """DNS rebinding: public when registered, private when delivered."""
    now = timezone.now()
    dns.records["hooks.example.org"] = [PUBLIC_V4]
    endpoint, delivery = one_delivery(cast, "https://hooks.example.org/pen", now)
    dns.records["hooks.example.org"] = [private]

    assert webhooks.attempt(delivery.pk, now=now) == DeliveryStatus.PENDING

    assert network.connects == []
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, None, NON_PUBLIC)
    assert delivery.history[-1]["error"] == NON_PUBLIC
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1


def test_a_resolution_with_one_private_record_among_public_ones_is_refused(cast, dns, network):
    now = timezone.now()
    dns.records["hooks.example.org"] = [PUBLIC_V4]
    _endpoint, delivery = one_delivery(cast, "https://hooks.example.org/pen", now)
    dns.records["hooks.example.org"] = [PUBLIC_V4, PUBLIC_V6, "::ffff:10.0.0.5"]

    webhooks.attempt(delivery.pk, now=now)

    assert network.connects == []
    delivery.refresh_from_db()
    assert delivery.last_error == NON_PUBLIC


@pytest.mark.parametrize(
    ("url", "address", "connect_to", "host_header"),
    [
        ("https://licensing.example.org/pen", PUBLIC_V4, (PUBLIC_V4, 443), "licensing.example.org"),
        ("https://licensing.example.org:8443/pen", PUBLIC_V6, (PUBLIC_V6, 8443), "licensing.example.org:8443"),
    ],
)
def test_a_public_resolution_is_connected_to_at_the_checked_address_with_tls_for_the_name(
    cast, dns, network, tls_receiver, url, address, connect_to, host_header
):
    now = timezone.now()
    dns.records["licensing.example.org"] = [address]
    hook = tls_receiver("licensing.example.org")
    _endpoint, delivery = one_delivery(cast, url, now)
    dns.calls.clear()

    assert webhooks.attempt(delivery.pk, now=now) == DeliveryStatus.DELIVERED

    # One lookup; the socket goes to the address that was checked, not to a name resolved again.
    assert dns.calls == [("licensing.example.org", connect_to[1])]
    assert network.connects == [connect_to]
    # TLS is for the name: its server name, its certificate (which names no address), its Host.
    assert hook.server_names == ["licensing.example.org"]
    assert [request["Host"] for request in hook.requests] == [host_header]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == ("delivered", 200, "")


def test_a_certificate_for_another_name_is_a_tls_error(cast, dns, network, tls_receiver):
    now = timezone.now()
    dns.records["licensing.example.org"] = [PUBLIC_V4]
    hook = tls_receiver("other.example.net")
    endpoint, delivery = one_delivery(cast, "https://licensing.example.org/pen", now)

    assert webhooks.attempt(delivery.pk, now=now) == DeliveryStatus.PENDING

    assert hook.requests == []
    delivery.refresh_from_db()
    assert (delivery.last_status_code, delivery.last_error) == (None, "TLS error.")


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(cast, dns, network, tls_receiver):
    now = timezone.now()
    dns.records["licensing.example.org"] = [PUBLIC_V4]
    hook = tls_receiver(answers=[(302, {"Location": "http://169.254.169.254/latest/meta-data/"})])
    endpoint, delivery = one_delivery(cast, "https://licensing.example.org/pen", now)

    assert webhooks.attempt(delivery.pk, now=now) == DeliveryStatus.PENDING

    assert network.connects == [(PUBLIC_V4, 443)] and len(hook.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)
    assert delivery.last_error == "HTTP 302 (redirects are not followed)"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("unreachable", "Connection failed."), ("unresolvable", "The host name could not be resolved.")],
)
def test_the_delivery_log_shows_a_generic_reason_never_the_socket_error(cast, dns, network, fault, reason):
    now = timezone.now()
    dns.records["hooks.example.org"] = [PUBLIC_V4]
    endpoint, delivery = one_delivery(cast, "https://hooks.example.org/pen", now)
    if fault == "unresolvable":
        dns.records["hooks.example.org"] = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    # otherwise every connection fails with "No route to host" (the network fixture)

    webhooks.attempt(delivery.pk, now=now)

    delivery.refresh_from_db()
    assert delivery.last_error == reason and delivery.history[-1]["error"] == reason
    rows, page = deliveries_api(cast, endpoint)
    assert rows[0]["last_error"] == reason and reason in page
    for word in RAW_SOCKET_WORDS:
        assert word not in rows[0]["last_error"].lower()
        assert word not in page.lower()


def test_the_resolver_is_getaddrinfo_once_per_name_with_every_record():
    """The real resolver, on a literal (no DNS is needed): every record, each once."""
    addresses = webhooks.resolve("127.0.0.1", 443)
    assert addresses == ["127.0.0.1"]
    assert all(ipaddress.ip_address(address) for address in addresses)


def test_a_receiver_that_never_answers_is_timed_out_in_general_terms(cast, dns, network, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the kernel does), never says a word
    network.target = silent.getsockname()
    try:
        now = timezone.now()
        dns.records["licensing.example.org"] = [PUBLIC_V4]
        _endpoint, delivery = one_delivery(cast, "https://licensing.example.org/pen", now)

        assert webhooks.attempt(delivery.pk, now=now) == DeliveryStatus.PENDING
    finally:
        silent.close()
    delivery.refresh_from_db()
    assert (delivery.last_status_code, delivery.last_error) == (None, "Timed out.")
