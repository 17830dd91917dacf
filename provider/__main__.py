"""Serve the gpu-platform components to the Pulumi engine (see PulumiPlugin.yaml)."""

from gpu_platform.plugin import main

main()
