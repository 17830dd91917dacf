"""Canned engine answers for offline runs: plausible ids, ARNs, endpoints and lookups.

`PlanMocks` echoes a resource's inputs as its outputs and adds what a real provider would
compute (ids, ARNs, endpoints, Auto Scaling group names, service account emails), so programs
that read those outputs run end to end under the mock engine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from pulumi.runtime import mocks

ACCOUNT_ID = "123456789012"
# What the offline plan shows for a value only the cloud can give at deploy time.
RESOLVED_AT_DEPLOY = "<resolved at deploy>"


def _digest(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


_MOCK_CA = "bW9jay1jbHVzdGVyLWNh"  # base64 of "mock-cluster-ca"


def _fake_kubeconfig(name: str, endpoint: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": endpoint}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [{"name": name, "user": {}}],
        }
    )


class PlanMocks(mocks.Mocks):
    """Answers registrations and invokes with deterministic, plausible values."""

    def __init__(
        self,
        region: str = "us-east-1",
        project: str = "mock-project",
        deployed_outputs: dict | None = None,
    ):
        self.region = region
        self.project = project
        self.deployed_outputs = deployed_outputs or {}
        """What the stack's last deployment exported (a StackReference to itself reads it);
        none by default, as before a first deployment."""

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict]:
        outputs = dict(args.inputs)
        package = args.typ.split(":")[0]
        resource_id = args.resource_id or f"{args.name}-{_digest(args.typ, args.name)}"
        if package == "aws":
            module = args.typ.split(":")[1].split("/")[0]
            outputs.setdefault(
                "arn", f"arn:aws:{module}:{self.region}:{ACCOUNT_ID}:{module}/{resource_id}"
            )
        if package == "gcp":
            outputs.setdefault("selfLink", f"https://mock.googleapis.com/{args.typ}/{resource_id}")
        outputs.setdefault("id", resource_id)
        for extra in _EXTRA_OUTPUTS.get(args.typ, ()):
            outputs.update(extra(self, args))
        return resource_id, outputs

    def call(self, args: mocks.MockCallArgs) -> tuple[dict, list | None]:
        handler = _CALLS.get(args.token)
        return (handler(self, args) if handler else dict(args.args)), []


def _eks_endpoint(m: PlanMocks, name: str) -> str:
    return f"https://{_digest(name, length=32).upper()}.gr7.{m.region}.eks.amazonaws.com"


def _eks_cluster(m: PlanMocks, args: mocks.MockResourceArgs) -> dict:
    endpoint = _eks_endpoint(m, args.name)
    issuer = f"https://oidc.eks.{m.region}.amazonaws.com/id/{_digest(args.name, length=32).upper()}"
    return {
        "name": args.inputs.get("name", args.name),
        "endpoint": endpoint,
        "vpcConfig": {
            **(args.inputs.get("vpcConfig") or {}),
            "clusterSecurityGroupId": f"sg-{_digest(args.name, 'cluster')}",
            "vpcId": "vpc-0mock",
        },
        "certificateAuthority": {"data": _MOCK_CA},
        "identities": [{"oidcs": [{"issuer": issuer}]}],
        "kubeconfig": _fake_kubeconfig(args.name, endpoint),
    }


def _gke_cluster(m: PlanMocks, args: mocks.MockResourceArgs) -> dict:
    return {
        "name": args.inputs.get("name", args.name),
        "endpoint": "203.0.113.10",
        "masterAuth": {"clusterCaCertificate": _MOCK_CA},
        "workloadIdentityConfig": {"workloadPool": f"{m.project}.svc.id.goog"},
        "privateClusterConfig": {
            **(args.inputs.get("privateClusterConfig") or {}),
            "privateEndpoint": "10.0.0.2",
        },
    }


def _node_group(_m: PlanMocks, args: mocks.MockResourceArgs) -> dict:
    # As the provider names a group from its prefix (a 26-digit unique suffix), and as EKS names
    # the group's Auto Scaling group (eks-<group>-<uuid>).
    group = args.inputs.get("nodeGroupName") or (
        args.inputs.get("nodeGroupNamePrefix", "")
        + str(int(_digest(args.name, length=20), 16))[:26].zfill(26)
    )
    uuid = _digest("uuid", args.name, length=32)
    uuid = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
    return {
        "nodeGroupName": group,
        "resources": [
            {
                "autoscalingGroups": [{"name": f"eks-{group}-{uuid}"}],
                "remoteAccessSecurityGroupId": "",
            }
        ],
        "status": "ACTIVE",
    }


def _iam_role(_m: PlanMocks, args: mocks.MockResourceArgs) -> dict:
    role = args.inputs.get("name", args.name)
    return {"name": role, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"}


def _rds_instance(m: PlanMocks, args: mocks.MockResourceArgs) -> dict:
    identifier = args.inputs.get("identifier", args.name)
    address = f"{identifier}.{_digest(args.name, length=12)}.{m.region}.rds.amazonaws.com"
    secret = f"rds!db-{_digest(args.name, 'secret', length=8)}"
    return {
        "address": address,
        "endpoint": f"{address}:5432",
        "masterUserSecrets": [
            {
                "secretArn": f"arn:aws:secretsmanager:{m.region}:{ACCOUNT_ID}:secret:{secret}",
                "secretStatus": "active",
            }
        ],
    }


def _gcp_service_account(m: PlanMocks, args: mocks.MockResourceArgs) -> dict:
    email = f"{args.inputs.get('accountId', args.name)}@{m.project}.iam.gserviceaccount.com"
    return {"email": email, "member": f"serviceAccount:{email}"}


_EXTRA_OUTPUTS: dict[str, tuple[Callable[[PlanMocks, mocks.MockResourceArgs], dict], ...]] = {
    "aws:eks/cluster:Cluster": (_eks_cluster,),
    "aws:eks/nodeGroup:NodeGroup": (_node_group,),
    "aws:iam/role:Role": (_iam_role,),
    "aws:ec2/launchTemplate:LaunchTemplate": (lambda _m, _a: {"latestVersion": 1},),
    "aws:kms/key:Key": (lambda _m, a: {"keyId": _digest(a.name, length=32)},),
    "gcp:container/cluster:Cluster": (_gke_cluster,),
    "gcp:serviceaccount/account:Account": (_gcp_service_account,),
    "pulumi:pulumi:StackReference": (
        lambda m, _a: {"outputs": dict(m.deployed_outputs), "secretOutputNames": []},
    ),
    "aws:rds/instance:Instance": (_rds_instance,),
    "gcp:sql/databaseInstance:DatabaseInstance": (
        lambda _m, a: {
            "name": a.inputs.get("name", a.name),
            "privateIpAddress": RESOLVED_AT_DEPLOY,
            "connectionName": f"mock-project:{a.inputs.get('region')}:{a.name}",
        },
    ),
    # Generated at deploy time; the SDK marks both secret, so the plan shows neither.
    "random:index/randomPassword:RandomPassword": (
        lambda _m, a: {"result": f"generated-{_digest(a.name)}", "bcryptHash": "generated"},
    ),
}

_CALLS: dict[str, Callable[[PlanMocks, mocks.MockCallArgs], dict]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda _m, _a: {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/plan",
        "userId": "AIDAPLAN",
        "id": ACCOUNT_ID,
    },
    "aws:index/getRegion:getRegion": lambda m, _a: {"name": m.region, "region": m.region},
    "aws:index/getPartition:getPartition": lambda _m, _a: {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
    },
    "aws:eks/getCluster:getCluster": lambda m, a: {
        "name": a.args["name"],
        "id": a.args["name"],
        "endpoint": _eks_endpoint(m, a.args["name"]),
        "certificateAuthorities": [{"data": _MOCK_CA}],
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.{m.region}.amazonaws.com/id/MOCK"}]}
        ],
        "vpcConfig": {
            "vpcId": "vpc-0mock",
            "subnetIds": ["subnet-0mock1", "subnet-0mock2"],
            "clusterSecurityGroupId": "sg-0mockcluster",
        },
        "version": "1.36",
    },
    # Add-ons without a published pin: EKS answers at deploy time; offline there is no answer.
    "aws:eks/getAddonVersion:getAddonVersion": lambda _m, a: {
        "addonName": a.args["addonName"],
        "kubernetesVersion": a.args["kubernetesVersion"],
        "version": RESOLVED_AT_DEPLOY,
        "id": a.args["addonName"],
    },
    # S3's addresses in a region: the managed prefix list answers at deploy time.
    "aws:ec2/getManagedPrefixList:getManagedPrefixList": lambda _m, a: {
        "name": a.args["name"],
        "id": f"pl-{_digest(a.args['name'], length=8)}",
        "entries": [{"cidr": RESOLVED_AT_DEPLOY, "description": a.args["name"]}],
    },
    "aws:ec2/getSubnets:getSubnets": lambda _m, a: {
        "ids": [f"subnet-{_digest(str(a.args), str(i))}" for i in range(2)],
        "id": "subnets",
    },
    "gcp:container/getCluster:getCluster": lambda _m, a: {
        "name": a.args["name"],
        "id": f"projects/{a.args.get('project')}/locations/{a.args.get('location')}/clusters/"
        f"{a.args['name']}",
        "endpoint": "203.0.113.20",
        "masterAuths": [{"clusterCaCertificate": _MOCK_CA}],
        "network": f"projects/{a.args.get('project')}/global/networks/default",
    },
    "gcp:organizations/getProject:getProject": lambda m, a: {
        "projectId": a.args.get("projectId", m.project),
        "number": "123456789012",
        "id": f"projects/{a.args.get('projectId', m.project)}",
    },
    "gcp:organizations/getClientConfig:getClientConfig": lambda m, _a: {
        "project": m.project,
        "region": m.region,
        "accessToken": "mock-token",
    },
}
