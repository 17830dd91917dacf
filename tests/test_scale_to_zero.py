"""Models that scale to zero and wake up: dev's models run no replica and no GPU node while
idle; a request to the model's unchanged URL reaches KEDA's HTTP add-on, which holds it while a
replica starts and then proxies it. Checked against the pinned add-on chart rendered by Helm's
own engine and its CRDs, KEDA's ScaledObject CRD, and the rules that keep production explicit."""

from __future__ import annotations

from harness import planned, platform_config, recorded, refused
from upstream_checks import UPSTREAM, crd_errors, render_chart

from gpu_platform.addons import keda_http
from gpu_platform.serving import coldstart
from stacks.config import parse
from stacks.estimate import estimate

PREFIX = "gpuplatform:serving:VllmService::dev-qwen-7b"


def _objects(kind: str) -> list[dict]:
    return [
        r.inputs
        for r in recorded("dev").resources
        if r.parent == PREFIX and r.inputs.get("kind") == kind
    ]


def _add_on() -> list[dict]:
    (release,) = [
        r
        for r in recorded("dev").of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "keda-add-ons-http"
    ]
    return render_chart("keda-add-ons-http", release.inputs["values"], "keda-add-ons-http", "keda")


def test_the_models_url_points_at_the_interceptor_which_routes_to_its_pods() -> None:
    services = {s["metadata"]["name"]: s for s in _objects("Service")}
    front, backend = services["vllm-qwen-7b"], services["vllm-qwen-7b-backend"]
    # The URL clients use is unchanged: the same Service name and port, now an ExternalName.
    url = recorded("dev").outputs["models"]["qwen-7b"]
    assert url == "http://vllm-qwen-7b.inference.svc.cluster.local:8000/v1"
    assert front["spec"]["type"] == "ExternalName"
    assert front["spec"]["ports"][0]["port"] == 8000
    # The name it points at is the interceptor proxy Service the pinned chart renders, and the
    # chart listens there on the model servers' port.
    rendered = {(o["kind"], o["metadata"]["name"]): o for o in _add_on()}
    proxy_name, namespace = front["spec"]["externalName"].split(".")[:2]
    proxy = rendered[("Service", proxy_name)]
    assert namespace == "keda" and proxy["spec"]["ports"][0]["port"] == 8000
    scaler_name, port = keda_http.SCALER_ADDRESS.split(":")
    scaler = rendered[("Service", scaler_name.split(".")[0])]
    assert int(port) in [p["port"] for p in scaler["spec"]["ports"]]
    # The backend selects the model's pods.
    (server,) = _objects("StatefulSet")
    pod_labels = server["spec"]["template"]["metadata"]["labels"]
    assert backend["spec"]["selector"].items() <= pod_labels.items()
    assert backend["spec"]["type"] == "ClusterIP"


def test_the_route_holds_requests_for_the_models_cold_start() -> None:
    (route,) = _objects("InterceptorRoute")
    path = "charts/keda-add-ons-http/templates/crds/crd-interceptorroutes.yaml"
    assert crd_errors(route, UPSTREAM / f"{path}#interceptorroutes.http.keda.sh") == []
    spec = route["spec"]
    assert spec["target"] == {"service": "vllm-qwen-7b-backend", "port": 8000}
    assert "vllm-qwen-7b.inference.svc.cluster.local" in spec["rules"][0]["hosts"]
    assert "vllm-qwen-7b.inference" in spec["rules"][0]["hosts"]
    config = parse(platform_config("dev"))
    start = coldstart.on_pool(config.models["qwen-7b"], config.node_pools["l4-spot"], "aws", True)
    # dev's pool keeps no node: the estimate includes booting one; the hold doubles it.
    assert start.node_seconds > 0
    assert spec["timeouts"]["readiness"] == f"{coldstart.hold_seconds(start)}s"
    assert coldstart.hold_seconds(start) >= 2 * start.total_seconds
    # No overall deadline: a streamed generation runs as long as it runs.
    assert spec["timeouts"]["request"] == "0s"
    assert "coldStart" not in spec  # a placeholder would answer at once instead of holding


def test_a_held_request_wakes_the_model_and_vllm_scales_it_above_one() -> None:
    (scaled,) = _objects("ScaledObject")
    assert crd_errors(scaled, "keda.sh_scaledobjects.yaml") == []
    spec = scaled["spec"]
    assert spec["minReplicaCount"] == 0 and spec["cooldownPeriod"] == 900
    types = [t["type"] for t in spec["triggers"]]
    assert types == ["prometheus", "prometheus", "external-push"]
    wake = spec["triggers"][-1]["metadata"]
    assert wake == {"scalerAddress": keda_http.SCALER_ADDRESS, "interceptorRoute": "vllm-qwen-7b"}
    scaler = recorded("dev").one("kubernetes:keda.sh/v1alpha1:ScaledObject", "dev-qwen-7b-scaler")
    route = "kubernetes:http.keda.sh/v1beta1:InterceptorRoute::dev-qwen-7b-route"
    assert route in scaler.options["dependsOn"]  # KEDA reads the route's metric when created
    # The route waits for the add-on's CRDs.
    route_options = recorded("dev").one(
        "kubernetes:http.keda.sh/v1beta1:InterceptorRoute", "dev-qwen-7b-route"
    )
    assert (
        "kubernetes:helm.sh/v3:Release::dev-keda-http-release"
        in (route_options.options["dependsOn"])
    )


def test_the_model_admits_the_interceptor_and_pulumi_does_not_wait_for_a_replica() -> None:
    (policy,) = _objects("NetworkPolicy")
    peers = policy["spec"]["ingress"][0]["from"]
    interceptor = [p for p in peers if "podSelector" in p]
    assert interceptor == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}},
            "podSelector": {"matchLabels": keda_http.INTERCEPTOR_LABELS},
        }
    ]
    # Those are the labels of the interceptor's pods as the chart renders them.
    (deployment,) = [
        o
        for o in _add_on()
        if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("interceptor")
    ]
    pod = deployment["spec"]["template"]
    assert keda_http.INTERCEPTOR_LABELS.items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["KEDA_HTTP_WATCH_NAMESPACE"] == "inference"
    # The proxy of every streamed response gets more CPU and memory than the chart's defaults
    # (0.5 CPU, 64Mi), and Helm's merge keeps what the platform sets.
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "512Mi"}
    (server,) = _objects("StatefulSet")
    assert server["spec"]["replicas"] == 0
    assert server["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}


def test_dev_at_idle_runs_no_gpu_node_and_the_plan_shows_the_wake_up() -> None:
    items = {i.name: i for i in estimate(parse(platform_config("dev"))).items}
    gpu_pools = [i for i in items.values() if i.kind == "node-pool"]
    assert gpu_pools and all(i.nodes_min == 0 and i.monthly_min == 0 for i in gpu_pools)
    plan = planned("dev")
    wake = dict(plan.wake_ups)
    assert set(wake) == {"qwen-7b", "bge-small"}
    # Streamed from the stack's mirror.
    assert wake["qwen-7b"].describe() == (
        "about 8.2 min (node 6.0 min, image 56 s, weights 16 s, warm-up 60 s)"
    )
    assert plan.as_json()["scaleToZero"]["qwen-7b"]["holdSeconds"] == 1020
    # prod keeps its models warm: no add-on, no route.
    prod = recorded("prod")
    charts = {r.inputs["chart"] for r in prod.of_type("kubernetes:helm.sh/v3:Release")}
    assert "keda-add-ons-http" not in charts
    assert not prod.of_type("kubernetes:http.keda.sh/v1beta1:InterceptorRoute")


def test_production_scales_to_zero_only_when_told_and_sees_the_cold_start() -> None:
    config = platform_config("prod")
    config["models"]["qwen-7b"]["minReplicas"] = 0
    (problem,) = refused(config)
    assert problem.startswith(
        "models.qwen-7b.minReplicas: 0 scales the model to zero when idle, and the first "
        "request after that waits for a cold start: about 8.2 min (node 6.0 min, image 56 s, "
        "weights 16 s, warm-up 60 s). Set allowScaleToZero: true"
    )
    config["models"]["qwen-7b"]["allowScaleToZero"] = True
    assert parse(config).models["qwen-7b"].scales_to_zero
    dev = platform_config("dev")
    dev["models"]["qwen-7b"]["allowScaleToZero"] = True
    assert refused(dev) == [
        "models.qwen-7b.allowScaleToZero: only a production model with minReplicas 0 needs "
        "it; remove it"
    ]
