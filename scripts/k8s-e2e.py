"""The checks of scripts/k8s-e2e.sh, run by it once the services are up (see there).

Talks to build-service's and the gateway's REST APIs and looks at the cluster with kubectl;
prints `name = value` figures and exits 1 when a check failed.
"""
import io
import json
import os
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request

TOKEN = os.environ["API_TOKEN"]
NS = os.environ["NS"]
HOST = os.environ["POD_HOST"]
RUN = os.environ["RUN_ID"]
BUILD = f"http://127.0.0.1:{os.environ['BUILD_PORT']}"
BUILD_FS = f"http://127.0.0.1:{os.environ['BUILD_FS_PORT']}"
ARTIFACTS = f"http://{HOST}:{os.environ['ARTIFACT_S3_PORT']}"
ARTIFACTS_FS = f"http://{HOST}:{os.environ['ARTIFACT_FS_PORT']}"
GATEWAY = f"http://127.0.0.1:{os.environ['GATEWAY_PORT']}"
WORK = os.environ["WORK"]

figures = []
failures = []


def figure(name, value):
    figures.append((name, value))
    print(f"{name} = {value}", flush=True)


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def call(method, url, body=None, data=None, content_type="application/json"):
    if body is not None:
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {TOKEN}")
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, text.decode(errors="replace")


def context_tarball(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def store_context(artifacts, key, files):
    status, answer = call("PUT", f"{artifacts}/v1/artifacts/{key}", data=context_tarball(files), content_type="application/gzip")
    if status != 201:
        raise SystemExit(f"storing {key} failed: {status} {answer}")
    return key


def start_build(base, body):
    status, run = call("POST", f"{base}/v1/builds", body=body)
    if status != 202:
        raise SystemExit(f"POST /v1/builds: {status} {run}")
    return run["id"]


def wait_run(base, run_id, limit=600):
    deadline = time.time() + limit
    while time.time() < deadline:
        _, run = call("GET", f"{base}/v1/builds/{run_id}")
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.5)
    raise SystemExit(f"build {run_id} did not end within {limit} s")


def build(base, body, label):
    run = wait_run(base, start_build(base, body))
    result = run.get("result") or {}
    error = run.get("error") or {}
    print(
        f"     {label}: {run['status']}"
        + (f", cached {result.get('cached_steps')}/{result.get('total_steps')} steps, build {result.get('timings_ms', {}).get('build')} ms" if result else "")
        + (f", {error.get('code')}: {error.get('message', '').splitlines()[0] if error.get('message') else ''}" if error else ""),
        flush=True,
    )
    return run


def kubectl(*arguments):
    return subprocess.run(["kubectl", "-n", NS, *arguments], capture_output=True, text=True, check=False)


def objects_of(workload):
    """Jobs and pods of a workload's builds, as `kind/name` lines."""
    out = kubectl("get", "jobs,pods", "-l", f"buildchain.io/workload={workload}", "-o", "name")
    return [line for line in out.stdout.splitlines() if line]


def build_seconds(run):
    return round(run["result"]["timings_ms"]["build"] / 1000, 2)


DOCKERFILE = """FROM busybox:1.36
COPY message.txt /message.txt
RUN cp /message.txt /copy.txt && echo "step one: $(cat /copy.txt)"
RUN echo "step two" > /two.txt && ls / | wc -l
CMD ["cat", "/copy.txt"]
"""
FILES = {"Dockerfile": DOCKERFILE, "message.txt": f"hello from k8s-e2e {RUN}\n"}


def body(key, workload, **extra):
    return {"context_key": key, "workload": workload, "service": "app", **extra}


def main():
    started = time.time()
    ok_builds = 0
    key = store_context(ARTIFACTS, f"contexts/e2e-{RUN}.tar.gz", FILES)

    print("== 1. two builds of one context, kaniko-kubernetes, S3 store over http", flush=True)
    workload = f"e2e-{RUN}"
    first = build(BUILD, body(key, workload), "first")
    second = build(BUILD, body(key, workload), "second")
    if check(first["status"] == "succeeded", "the first build succeeded"):
        ok_builds += 1
        check(first["result"]["builder"]["name"] == "kaniko-kubernetes", "built by kaniko-kubernetes")
        check(first["result"]["cached_steps"] == 0, "the first build ran its RUN steps")
        figure("seconds_kaniko_kubernetes_first", build_seconds(first))
    if check(second["status"] == "succeeded", "the second build succeeded"):
        ok_builds += 1
        cached = second["result"]["cached_steps"]
        check(cached == 2, f"the second build took both RUN steps from the cache ({cached})")
        figure("cached_steps_second_build", cached)
        figure("seconds_kaniko_kubernetes_cached", build_seconds(second))
    if first["status"] == "succeeded" and second["status"] == "succeeded":
        check(first["result"]["config_digest"] != "" and first["result"]["layer_count"] >= 3, "an image with its layers")
    time.sleep(1)
    check(objects_of(workload) == [], f"no Job or pod left after success: {objects_of(workload)}")

    print("== 2. a failing RUN step", flush=True)
    failing_key = store_context(ARTIFACTS, f"contexts/e2e-{RUN}-fail.tar.gz", {"Dockerfile": "FROM busybox:1.36\nRUN echo about to fail\nRUN exit 3\n"})
    failed = build(BUILD, body(failing_key, f"e2e-{RUN}-fail"), "failing")
    error = failed.get("error") or {}
    message = error.get("message", "")
    check(failed["status"] == "failed" and error.get("code") == "BUILD_STEP_FAILED", f"failed with BUILD_STEP_FAILED ({error.get('code')})")
    first_line = message.splitlines()[0] if message else ""
    check(
        first_line.startswith("error building image:") and first_line.endswith("exit status 3"),
        f"the message leads with Kaniko's error line and the step's exit status: {first_line!r}",
    )
    check("Usage:" not in message, "no usage text in the message")
    figure("failing_build_error", f"{error.get('code')}: {first_line}")
    time.sleep(1)
    check(objects_of(f"e2e-{RUN}-fail") == [], "no Job or pod left after failure")

    print("== 3. a build cancelled while it runs", flush=True)
    slow_key = store_context(ARTIFACTS, f"contexts/e2e-{RUN}-slow.tar.gz", {"Dockerfile": "FROM busybox:1.36\nRUN echo sleeping && sleep 300\n"})
    slow_workload = f"e2e-{RUN}-cancel"
    run_id = start_build(BUILD, body(slow_key, slow_workload, cache=False))
    running = False
    deadline = time.time() + 120
    while time.time() < deadline and not running:
        pods = kubectl("get", "pods", "-l", f"buildchain.io/workload={slow_workload}", "-o", "json")
        items = json.loads(pods.stdout or '{"items":[]}')["items"]
        for pod in items:
            for status in pod.get("status", {}).get("initContainerStatuses", []):
                if status["name"] == "kaniko" and "running" in status.get("state", {}):
                    running = True
        time.sleep(0.5)
    check(running, "the executor runs in its pod")
    time.sleep(3)  # well into `sleep 300`
    cancelled_at = time.time()
    status, _ = call("DELETE", f"{BUILD}/v1/builds/{run_id}")
    gone_after = None
    while time.time() - cancelled_at < 30:
        if objects_of(slow_workload) == []:
            gone_after = round(time.time() - cancelled_at, 2)
            break
        time.sleep(0.2)
    cancelled = wait_run(BUILD, run_id, 60)
    check(status == 202 and cancelled["status"] == "cancelled", f"the run is cancelled ({cancelled['status']})")
    check(gone_after is not None and gone_after <= 5, f"Job and pod gone {gone_after} s after the cancel")
    figure("seconds_job_and_pod_gone_after_cancel", gone_after)

    print("== 4. the filesystem store (the pod fetches the context from artifact-service)", flush=True)
    fs_key = store_context(ARTIFACTS_FS, f"contexts/e2e-{RUN}-fs.tar.gz", FILES)
    fs = build(BUILD_FS, body(fs_key, f"e2e-{RUN}-fs"), "filesystem store")
    if check(fs["status"] == "succeeded", "the build with the filesystem store succeeded"):
        ok_builds += 1
        figure("seconds_kaniko_kubernetes_filesystem_store", build_seconds(fs))
        check(os.path.exists(f"{WORK}/artifacts"), "the image is in the filesystem store")

    print("== 5. a whole job through the gateway (build on the cluster)", flush=True)
    repo = f"{WORK}/repo"
    os.makedirs(repo, exist_ok=True)
    for name, text in FILES.items():
        with open(f"{repo}/{name}", "w") as handle:
            handle.write(text.replace("k8s-e2e", "k8s-e2e gateway"))
    git = ["git", "-C", repo, "-c", "user.email=e2e@buildchain.local", "-c", "user.name=e2e"]
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "e2e"], check=True)
    cli = f"{os.environ['BIN']}/buildchain"
    environment = dict(os.environ, BUILDCHAIN_URL=GATEWAY, BUILDCHAIN_TOKEN=TOKEN)
    job_started = time.time()
    submitted = subprocess.run(
        [cli, "build", "--repo", f"file://{repo}", "--ref", "main", "--workload", f"e2e-{RUN}-gw", "--service", "app", "--wait"],
        capture_output=True, text=True, env=environment, timeout=900)
    job_seconds = round(time.time() - job_started, 2)
    print("\n".join("     " + line for line in (submitted.stdout + submitted.stderr).strip().splitlines()[-8:]), flush=True)
    listed = subprocess.run([cli, "jobs", "--workload", f"e2e-{RUN}-gw", "--limit", "1", "--output", "json"],
                            capture_output=True, text=True, env=environment)
    job = None
    if listed.returncode == 0 and json.loads(listed.stdout)["jobs"]:
        job_id = json.loads(listed.stdout)["jobs"][0]["id"]
        shown = subprocess.run([cli, "show", job_id, "--output", "json"], capture_output=True, text=True, env=environment)
        job = json.loads(shown.stdout) if shown.returncode == 0 else None
    if check(submitted.returncode == 0 and job is not None and job.get("state") == "succeeded", "the gateway's job succeeded"):
        ok_builds += 1
        stage = next(s for s in job["stages"] if s["name"] == "build")
        check(stage["result"]["builder"]["name"] == "kaniko-kubernetes", "its build ran on the cluster")
        figure("seconds_gateway_job", job_seconds)

    print("== 6. the same context with the local kaniko driver and with buildah", flush=True)
    if os.environ.get("KANIKO_LOCAL"):
        local = build(BUILD, body(key, f"e2e-{RUN}-local", driver="kaniko"), "local kaniko")
        local_again = build(BUILD, body(key, f"e2e-{RUN}-local", driver="kaniko"), "local kaniko again")
        if check(local["status"] == "succeeded" and local_again["status"] == "succeeded", "the local kaniko driver built it twice"):
            ok_builds += 2
            check(local["result"]["builder"]["name"] == "kaniko", "built by the local executor")
            figure("seconds_kaniko_local_first", build_seconds(local))
            figure("seconds_kaniko_local_cached", build_seconds(local_again))
            figure("cached_steps_kaniko_local_second", local_again["result"]["cached_steps"])
    else:
        print("     skipped: no E2E_KANIKO_EXECUTOR", flush=True)
    buildah = build(BUILD, body(key, f"e2e-{RUN}-buildah", driver="buildah"), "buildah")
    buildah_again = build(BUILD, body(key, f"e2e-{RUN}-buildah", driver="buildah"), "buildah again")
    if check(buildah["status"] == "succeeded" and buildah_again["status"] == "succeeded", "buildah built it twice"):
        ok_builds += 2
        figure("seconds_buildah_first", build_seconds(buildah))
        figure("seconds_buildah_cached", build_seconds(buildah_again))
        figure("cached_steps_buildah_second", buildah_again["result"]["cached_steps"])

    left = kubectl("get", "jobs,pods", "-o", "name").stdout.split()
    check(left == [], f"nothing left in namespace {NS}: {left}")
    figure("builds_ok", ok_builds)
    figure("checks_failed", len(failures))
    figure("seconds_total", round(time.time() - started, 1))
    if failures:
        print("K8S E2E FAILED:\n  " + "\n  ".join(failures), flush=True)
        sys.exit(1)
    print("K8S E2E PASSED", flush=True)


if __name__ == "__main__":
    main()
