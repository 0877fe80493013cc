"""`canaryctl render`: it writes what the program registers, field for field."""

import json
import subprocess
import sys

import pytest
import yaml

from canaryctl import render
from canaryctl.__main__ import main
from tests import fakes
from tests.harness import ROOT
from tests.util import DOMAIN, SECRETS


def normalized(obj):
    """JSON numbers as the engine sees them (protobuf Struct has only floats)."""
    return json.loads(json.dumps(obj), parse_int=float)


def key(obj) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


@pytest.mark.parametrize("config", [DOMAIN, {}, {**DOMAIN, "canaryStrategy": "istio",
                                                 "canaryWeight": "37"}, {"tracing": "otel"},
                                    {"canaryStrategy": "lattice", "canaryWeight": "10"}])
def test_render_equals_what_the_program_registers(program, config):
    run = program(config, secrets=SECRETS)
    assert run.error is None, run.error
    registered = {key(r.inputs): r.inputs for r in run.k8s_objects()}

    (xray_role,) = [r for r in run.of_type("aws:iam/role:Role")
                    if "xray-daemon" in r.name or "otel-collector" in r.name]
    cloud = render.CloudValues(
        db_address=fakes.RDS_ADDRESS, db_password=SECRETS["dbPassword"],
        smtp_username=SECRETS["smtpUsername"], smtp_password=SECRETS["smtpPassword"],
        certificate_arn=fakes.CERTIFICATE_ARN,
        xray_role_arn=f"arn:aws:iam::{fakes.ACCOUNT}:role/{xray_role.name}",
        lattice_domain_name=fakes.LATTICE_DOMAIN, lattice_cidrs=fakes.LATTICE_CIDRS)
    cfg = render.load("dev", {**config, **SECRETS})
    rendered = {key(o): o for objs in render.render_objects(cfg, cloud).values() for o in objs}

    assert set(rendered) == set(registered)
    for name, obj in rendered.items():
        assert normalized(obj) == normalized(registered[name]), name


def test_render_command_writes_yaml_with_placeholders(tmp_path):
    out = tmp_path / "manifests"
    code = main(["render", "--stack", "dev", "--out", str(out),
                 "--set", "domainName=canary.example.com"])
    assert code == 0
    files = sorted(out.glob("*/*.yaml"))
    objects = [yaml.safe_load(f.read_text()) for f in files]
    kinds = {o["kind"] for o in objects}
    assert {"Namespace", "Deployment", "Service", "Ingress", "DaemonSet", "Secret",
            "NetworkPolicy", "ConfigMap", "ServiceAccount"} <= kinds
    ingress = next(o for o in objects if o["kind"] == "Ingress")
    assert "PLACEHOLDER" in ingress["metadata"]["annotations"][
        "alb.ingress.kubernetes.io/certificate-arn"]
    mysql = next(o for o in objects if o["kind"] == "Service" and
                 o["metadata"]["name"] == "mysql")
    assert "PLACEHOLDER" in mysql["spec"]["externalName"]
    assert (out / "KUBERNETES_VERSION").read_text().strip() == "1.35"
    # a second render into the same folder leaves no stale files
    assert main(["render", "--stack", "dev", "--out", str(out)]) == 0
    assert len(list(out.glob("*/*.yaml"))) == len(files)


def test_render_writes_the_collector_with_tracing_otel(tmp_path):
    out = tmp_path / "manifests"
    assert main(["render", "--out", str(out)]) == 0  # the daemon first: replaced below
    assert main(["render", "--out", str(out), "--set", "tracing=otel"]) == 0
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["app", "tracing"]
    objects = [yaml.safe_load(f.read_text()) for f in sorted(out.glob("tracing/*.yaml"))]
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Namespace", "xray"), ("ServiceAccount", "otel-collector"),
        ("ConfigMap", "otel-collector-config"), ("DaemonSet", "otel-collector"),
        ("Service", "xray-service"), ("NetworkPolicy", "otel-collector")]
    config = yaml.safe_load(objects[2]["data"]["config.yaml"])
    assert config["exporters"]["awsxray"]["region"] == "us-east-1"


def test_render_shows_the_lattice_routing_objects(tmp_path):
    out = tmp_path / "manifests"
    assert main(["render", "--stack", "dev", "--out", str(out),
                 "--set", "canaryStrategy=lattice", "--set", "canaryWeight=10"]) == 0
    objects = [yaml.safe_load(f.read_text()) for f in sorted(out.glob("app/*.yaml"))]
    kinds = [o["kind"] for o in objects]
    # the routing objects come last, the route (which waits for its DNS name) at the end
    assert kinds[-7:] == ["GatewayClass", "Gateway", "Service", "Service",
                          "TargetGroupPolicy", "TargetGroupPolicy", "HTTPRoute"]
    route = objects[-1]
    assert [(r["name"], r["weight"]) for r in route["spec"]["rules"][0]["backendRefs"]] == \
        [("notification-v1", 90), ("notification-v2", 10)]
    usermgmt = next(o for o in objects if o["metadata"]["name"] == "usermgmt-microservice")
    env = {e["name"]: e.get("value") for e in
           usermgmt["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "PLACEHOLDER" in env["NOTIFICATION_SERVICE_HOST"]
    assert env["NOTIFICATION_SERVICE_PORT"] == "80"


def test_render_rejects_bad_config_and_unknown_stack(tmp_path, capsys):
    assert main(["render", "--out", str(tmp_path), "--set", "canaryWeight=101"]) == 2
    assert "canaryWeight: got '101'" in capsys.readouterr().err
    assert main(["render", "--out", str(tmp_path), "--set", "tracing=jaeger"]) == 2
    assert "tracing: got 'jaeger'" in capsys.readouterr().err
    assert main(["render", "--stack", "nope", "--out", str(tmp_path)]) == 2
    assert "Pulumi.nope.yaml" in capsys.readouterr().err
    assert main(["render", "--set", "novalue"]) == 2


def test_render_module_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "canaryctl", "render", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and list(tmp_path.glob("app/*.yaml"))


def test_render_refuses_an_unknown_key_and_reads_the_namespaced_form(tmp_path, capsys):
    assert main(["render", "--out", str(tmp_path / "a"), "--set", "canaryWieght=75"]) == 2
    err = capsys.readouterr().err
    assert "canaryWieght" in err and "did you mean `canaryWeight`?" in err
    # the namespaced form, as the stack files spell it, is the same key
    assert main(["render", "--out", str(tmp_path / "b"),
                 "--set", "eks-canary:canaryWeight=150"]) == 2
    assert "canaryWeight: got '150'" in capsys.readouterr().err
    assert render.load("dev", {"eks-canary:canaryWeight": "25"}).canary_weight == 25
    # keys of other namespaces are the providers' (aws:region is read by the program too)
    assert render.load("dev", {"aws:region": "eu-west-1"}).region == "eu-west-1"


# ---- render tells the truth and leaves a clean folder

def test_render_reports_the_split_served_and_the_inexact_warning(tmp_path, capsys):
    assert main(["render", "--out", str(tmp_path / "m"), "--set", "canaryWeight=10"]) == 0
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "canaryStrategy replicas" in out and "canaryWeight 10" in out
    assert "serves 25%" in out and "V1 3 pods, V2 1 pod" in out
    assert "notificationReplicas 10" in out  # how to make it exact, as `pulumi up` warns
    assert "{" not in captured.out  # a readable summary, not a JSON dump
    assert f"wrote {len(list((tmp_path / 'm').glob('*/*.yaml')))} objects" in captured.out


def test_an_exact_split_has_no_warning(tmp_path, capsys):
    assert main(["render", "--out", str(tmp_path / "m"), "--set", "canaryStrategy=istio",
                 "--set", "canaryWeight=10"]) == 0
    out = capsys.readouterr()
    assert "serves 10%" in out.out and "cannot be served exactly" not in out.out + out.err


def files_under(folder):
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}


def test_a_second_render_leaves_nothing_of_the_first_that_it_did_not_write_again(tmp_path):
    out = tmp_path / "m"
    assert main(["render", "--out", str(out), "--set", "canaryStrategy=lattice"]) == 0
    assert (out / "gateway-api-controller").is_dir()
    first = files_under(out)
    assert main(["render", "--out", str(out)]) == 0
    second = files_under(out)
    assert not (out / "gateway-api-controller").exists()  # no stale controller objects
    assert {p for p in first - second if p.suffix == ".yaml"}  # the first wrote more
    # every file there now was written by the second render (and listed in its record)
    listed = set(render.written_files(out))
    assert {p for p in second if p.name != render.RECORD} == listed


def test_render_refuses_a_folder_with_files_it_did_not_write(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["render", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and "did not write" in err
    assert files_under(out) == {out.relative_to(out) / "notes.txt"}
    # nor one that an earlier render wrote into, once someone added a file
    fresh = tmp_path / "fresh"
    assert main(["render", "--out", str(fresh)]) == 0
    (fresh / "app" / "extra.yaml").write_text("kind: Secret\n")
    assert main(["render", "--out", str(fresh)]) == 2
    assert (fresh / "app" / "extra.yaml").exists()


def test_tests_run_renders_into_its_own_folder_under_build():
    script = (ROOT / "tests" / "run").read_text()
    [folder] = [line.split("=")[1].split()[0] for line in script.splitlines()
                if line.startswith("out=")]
    outs = [line.split("--out ")[1].split()[0].replace('"$out', folder).strip('"')
            for line in script.splitlines() if "render" in line and "--out " in line]
    assert outs and all(o.startswith("build/") and not o.startswith("build/manifests/")
                        and o != "build/manifests" for o in outs)
    assert "rm -rf build/manifests\n" not in script
