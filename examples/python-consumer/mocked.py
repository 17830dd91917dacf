"""Runs this example under Pulumi's mock engine and prints what it registered, as JSON (type,
name, provider, inputs), one resource per line. Needs only the example's own requirements:
the gpu-platform package and the Pulumi SDKs it brings.

    python mocked.py
"""

import json
import runpy
import sys
from pathlib import Path

import pulumi
from pulumi.runtime import mocks

registered: list[dict] = []


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        registered.append(
            {"type": args.typ, "name": args.name, "provider": args.provider, "inputs": args.inputs}
        )
        return [f"{args.name}-id", args.inputs]

    def call(self, _args: pulumi.runtime.MockCallArgs):
        return {}


mocks.set_mocks(Mocks(), project="gpu-platform-consumer", stack="example", preview=False)
pulumi.runtime.set_all_config(
    {"gpu-platform-consumer:kubeconfig": "{}"}, ["gpu-platform-consumer:kubeconfig"]
)


@pulumi.runtime.test
def run():
    runpy.run_path(str(Path(__file__).with_name("__main__.py")), run_name="__main__")


run()
for resource in registered:
    sys.stdout.write(json.dumps(resource, default=str, sort_keys=True) + "\n")
