"""Issue 16, finding 3, fuzzed: hypothesis draws addresses from every non-public network
and writes them in every spelling an attacker might use (dotted, IPv4-mapped, IPv4-
compatible, 6to4, NAT64, with a zone, as a DNS answer); none may be called public, none
may be registered, and a delivery to a name that resolves to one never connects."""

import ipaddress

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from messaging import webhooks

NON_PUBLIC_V4 = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
]
NON_PUBLIC_V6 = ["::1/128", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "2001:db8::/32", "::/128"]


def in_network(cidr):
    network = ipaddress.ip_network(cidr)
    return st.integers(0, network.num_addresses - 1).map(lambda offset: network.network_address + offset)


# 192.0.0.9 and .10 are the two globally reachable anycast services of 192.0.0.0/24.
private_v4 = st.one_of([in_network(c) for c in NON_PUBLIC_V4]).filter(
    lambda a: str(a) not in {"192.0.0.9", "192.0.0.10"}
)
private_v6 = st.one_of([in_network(c) for c in NON_PUBLIC_V6])


def spellings(v4: ipaddress.IPv4Address) -> list[str]:
    """The ways an IPv4 address hides in IPv6 (and plain)."""
    packed = int(v4)
    return [
        str(v4),
        f"::ffff:{v4}",  # IPv4-mapped
        f"::{v4}",  # IPv4-compatible (how [::127.0.0.1] parses)
        str(ipaddress.IPv6Address((0x2002 << 112) | (packed << 80))),  # 6to4
        str(ipaddress.IPv6Address((0x0064FF9B << 96) | packed)),  # NAT64
    ]


@pytest.fixture(autouse=True)
def _production_rules(settings):
    # The local demo allows http:// and local receivers; production (and this test) never.
    settings.WEBHOOK_ALLOW_INSECURE_URLS = False


FUZZ = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(private_v4)
def test_no_spelling_of_a_non_public_ipv4_address_is_public(address):
    for spelled in spellings(address):
        assert not webhooks.is_public_address(spelled), spelled


@FUZZ
@given(private_v6, st.sampled_from(["", "%eth0", "%1"]))
def test_no_non_public_ipv6_address_is_public_with_or_without_a_zone(address, zone):
    assert not webhooks.is_public_address(f"{address}{zone}")


@FUZZ
@given(private_v4, st.integers(0, 4))
def test_no_url_on_a_non_public_address_is_registered(address, which):
    spelled = spellings(address)[which]
    host = spelled if which == 0 else f"[{spelled}]"
    with pytest.raises(Exception) as refused:
        webhooks.validate_endpoint_url(f"https://{host}/hook")
    assert "ValidationError" in type(refused.value).__name__


@FUZZ
@given(st.lists(st.one_of(private_v4, private_v6), min_size=1, max_size=3), st.integers(0, 2))
def test_a_name_whose_answer_holds_any_non_public_record_is_refused(monkeypatch, records, public_count):
    answer = [str(r) for r in records] + ["93.184.216.34", "2606:2800:220:1::"][:public_count]
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: answer)
    with pytest.raises(Exception) as refused:
        webhooks.validate_endpoint_url("https://hooks.example.org/hook")
    assert "ValidationError" in type(refused.value).__name__
