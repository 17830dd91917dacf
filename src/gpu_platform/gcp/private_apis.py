"""Google APIs over Private Google Access at a fixed address range.

A private DNS zone on the platform's network answers `*.googleapis.com` with
`private.googleapis.com`, Google's documented range for reaching Google APIs (Cloud Storage
included) from private nodes. Traffic stays on Google's network, and a network policy can allow
"Cloud Storage" as one /30 instead of Google's whole public address space.
"""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_gcp as gcp

PRIVATE_GOOGLE_APIS = "199.36.153.8/30"


def render_records() -> list[dict]:
    """The zone's records: the range's four addresses, and every other name pointed at them."""
    addresses = [str(a) for a in ipaddress.ip_network(PRIVATE_GOOGLE_APIS)]
    return [
        {"name": "private.googleapis.com.", "type": "A", "ttl": 300, "rrdatas": addresses},
        {
            "name": "*.googleapis.com.",
            "type": "CNAME",
            "ttl": 300,
            "rrdatas": ["private.googleapis.com."],
        },
    ]


def create_private_google_apis(
    name: str,
    zone_name: str,
    network: gcp.compute.Network,
    project: str,
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """The private zone for `googleapis.com` on `network` and its `render_records()`."""
    zone = gcp.dns.ManagedZone(
        f"{name}-googleapis",
        name=zone_name,
        dns_name="googleapis.com.",
        description="Google APIs through private.googleapis.com (Private Google Access)",
        visibility="private",
        private_visibility_config={"networks": [{"network_url": network.id}]},
        project=project,
        opts=opts,
    )
    records = [
        gcp.dns.RecordSet(
            f"{name}-googleapis-{record['type'].lower()}",
            managed_zone=zone.name,
            project=project,
            **record,
            opts=opts,
        )
        for record in render_records()
    ]
    return [zone, *records]
