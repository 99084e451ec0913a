#!/usr/bin/env bash
# Checks the production deployment files without a cluster, a container engine or the
# network (runs here and in CI, in a few seconds):
#
#   - deploy/containers: every Containerfile parses with BuildKit's parser (PyPI
#     `dockerfile`), has the expected targets (port, HEALTHCHECK, user, entrypoint) and
#     COPYs only paths that exist; buildchain-probe works against a loopback HTTP server
#   - deploy/k8s: `kubectl kustomize` renders base and overlays/example; kubectl decodes
#     every rendered object (`kubectl label --local`); every object, and
#     secret.example.yaml, validates strictly against the Kubernetes OpenAPI schemas
#     bundled in PyPI `kubernetes-validate` (1.28 and its newest); cross-checks
#     (probes, resources, non-root, ConfigMap and Secret references, Services, PDBs,
#     placeholder addresses replaced, every variable documented by the service's
#     configuration type and in deploy/README.md); the example Secrets are fake
#   - deploy/github/build.yml: valid YAML with the expected keys, valid against the
#     GitHub workflow schema bundled in PyPI `check-jsonschema`, its `run:` scripts
#     pass `bash -n` (and shellcheck where installed), the CLI flags it uses exist
#
# Why no `kubectl apply --dry-run=client`: kubectl (1.32 here) resolves every object's
# kind through the API server's discovery even for a client dry run, so without a
# cluster it fails ("couldn't get current server API group list"); `create
# --dry-run=client` needs the server's OpenAPI for validation or discovery without it.
# The offline equivalents are the strict schema validation and `kubectl label --local`.
# With a cluster, set CHECK_DEPLOY_KUBECONFIG=path to also run
# `kubectl apply --dry-run=server` against it.
#
# Prints `ok NAME` or `FAIL NAME: why` per check and a closing `N passed, N failed`
# line; exits non-zero if any check failed. Tools: deploy/local/install-deps.sh.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root" || exit 1

tmp="$(mktemp -d)"
probe_server_pid=""
cleanup() {
  if [[ -n $probe_server_pid ]]; then kill "$probe_server_pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# kubectl never talks to a real cluster here (nor to its default, localhost:8080, which is
# the local stack's gateway): a config whose server refuses at once.
cat >"$tmp/kubeconfig" <<'EOF'
apiVersion: v1
kind: Config
clusters: [{name: offline, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: offline, context: {cluster: offline, user: offline}}]
users: [{name: offline, user: {token: offline-check}}]
current-context: offline
EOF
export KUBECONFIG="$tmp/kubeconfig" KUBECACHEDIR="$tmp/kube-cache"

passed=0 failed=0 skipped=0
ok() {
  echo "ok $1"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL $1: $2"
  failed=$((failed + 1))
}
skip() {
  echo "skip $1: $2"
  skipped=$((skipped + 1))
}
# check NAME COMMAND...: ok when COMMAND succeeds; else FAIL with its output (last 25 lines).
check() {
  local name=$1 rc=0
  shift
  "$@" >"$tmp/out" 2>&1 </dev/null || rc=$?
  if ((rc == 0)); then
    ok "$name"
  else
    fail "$name" "exit $rc"
    tail -n 25 "$tmp/out" | sed 's/^/    /'
  fi
}

# ---------------------------------------------------------------------------------
# The Python half of the checks: `py SUBCOMMAND ARGS…`.
read -r -d '' PYCODE <<'PY'
import base64, hashlib, json, os, re, sys
import yaml

def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]

def die(errors):
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)

EXPECTED_TARGETS = {
    # target: (port, user, entrypoint)
    "gateway": ("8080", "10001:10001", "gateway"),
    "checkout-service": ("8081", "10001:10001", "checkout-service"),
    "rewrite-service": ("8082", "10001:10001", "rewrite-service"),
    "build-service": ("8083", "0:0", "build-service"),
    "build-service-kaniko": ("8083", "10001:10001", "build-service"),
    "artifact-service": ("8084", "10001:10001", "artifact-service"),
    "buildchain": (None, "10001:10001", "buildchain"),
}

INSTRUCTIONS = {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}

def containerfiles(paths):
    import dockerfile
    errors = []
    for path in paths:
        try:
            commands = dockerfile.parse_file(path)
        except Exception as e:  # the parser's own error names the line
            errors.append(f"{path}: {e}")
            continue
        # the parser takes any word as an instruction; builders refuse unknown ones
        for c in commands:
            if c.cmd not in INSTRUCTIONS:
                errors.append(f"{path}:{c.start_line}: unknown instruction {c.cmd}")
        if not commands or commands[0].cmd not in ("FROM", "ARG"):
            errors.append(f"{path}: must start with FROM (or ARG)")
    die(errors)

def containerfile_targets(path):
    import dockerfile
    errors, stages, current = [], {}, None
    for cmd in dockerfile.parse_file(path):
        if cmd.cmd == "FROM":
            parts = cmd.value
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            current = {"base": parts[0], "cmds": [], "line": cmd.start_line}
            stages[name or f"#{len(stages)}"] = current
        elif current is not None:
            current["cmds"].append(cmd)
        if cmd.cmd in ("COPY", "ADD") and not any(f.startswith("--from") for f in cmd.flags):
            for source in cmd.value[:-1]:
                if not os.path.exists(source.rstrip("/")):
                    errors.append(f"{path}:{cmd.start_line}: COPY source {source} does not exist in the repository")
    order = list(stages)
    if stages.get("build", {}).get("base") != "swift:6.2-bookworm":
        errors.append("stage build must be FROM swift:6.2-bookworm")
    if stages.get("runtime", {}).get("base") != "debian:bookworm-slim":
        errors.append("stage runtime must be FROM debian:bookworm-slim")
    if order and order[-1] != "gateway":
        errors.append(f"the last stage (the default target) is {order[-1]}, expected gateway")
    for target, (port, user, entry) in EXPECTED_TARGETS.items():
        stage = stages.get(target)
        if stage is None:
            errors.append(f"no target {target}")
            continue
        if stage["base"] != "runtime":
            errors.append(f"{target}: FROM {stage['base']}, expected runtime")
        by = {}
        for c in stage["cmds"]:
            by.setdefault(c.cmd, []).append(c)
        def last(kind):
            return by[kind][-1].value if kind in by else None
        if port and (last("EXPOSE") or ())[:1] != (port,):
            errors.append(f"{target}: EXPOSE {last('EXPOSE')}, expected {port}")
        if port and not any(f"PORT={port}" in " ".join(c.original.split()) for c in by.get("ENV", [])):
            errors.append(f"{target}: no ENV PORT={port}")
        if port:
            hc = last("HEALTHCHECK") or ()
            if "/healthz" not in " ".join(hc):
                errors.append(f"{target}: no HEALTHCHECK on /healthz")
        if last("USER") != (user,):
            errors.append(f"{target}: USER {last('USER')}, expected {user}")
        if last("ENTRYPOINT") != (entry,):
            errors.append(f"{target}: ENTRYPOINT {last('ENTRYPOINT')}, expected [{entry}]")
        binary = f"/out/{entry}"
        if not any(c.cmd == "COPY" and binary in c.value for c in stage["cmds"]):
            errors.append(f"{target}: does not COPY {binary} from the build stage")
        if not any(c.cmd == "RUN" and "ldd" in c.original for c in stage["cmds"]):
            errors.append(f"{target}: no ldd check of its binary")
    checkout = " ".join(c.original for c in stages.get("checkout-service", {}).get("cmds", []))
    if not ("git" in checkout and "openssh-client" in checkout):
        errors.append("checkout-service: git and openssh-client not installed")
    build = " ".join(c.original for c in stages.get("build-service", {}).get("cmds", []))
    if "buildah" not in build:
        errors.append("build-service: buildah not installed")
    die(errors)

# -- the rendered manifests --------------------------------------------------------

SERVICES = {"gateway": 8080, "checkout-service": 8081, "rewrite-service": 8082,
            "build-service": 8083, "artifact-service": 8084}
CONFIG_FILES = {
    "gateway": "Services/Gateway/GatewayConfiguration.swift",
    "checkout-service": "Services/CheckoutService/CheckoutConfiguration.swift",
    "rewrite-service": "Services/RewriteService/RewriteConfiguration.swift",
    "build-service": "Services/BuildService/BuildConfiguration.swift",
    "artifact-service": "Services/ArtifactService/ArtifactConfiguration.swift",
}
COMMON_FILE = "Shared/ServiceKit/Configuration/CommonConfiguration.swift"
PLACEHOLDER_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")

def documented(path):
    names = set()
    with open(path) as f:
        for line in f:
            if line.strip().startswith("///"):
                names.update(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", line))
    return names

def pod_spec(obj):
    if obj["kind"] in ("Deployment", "Job"):
        return obj["spec"]["template"]["spec"]
    return None

def secret_keys(path):
    keys = {}
    for d in load_all(path):
        if d.get("kind") == "Secret":
            keys[d["metadata"]["name"]] = set((d.get("stringData") or {}) | (d.get("data") or {}))
    return keys

def manifests(rendered, secret_example, readme, overlay):
    errors = []
    objs = load_all(rendered)
    by_kind = {}
    for o in objs:
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
    configmaps = by_kind.get("ConfigMap", {})
    secrets = secret_keys(secret_example)
    common = documented(COMMON_FILE)
    with open(readme) as f:
        readme_text = f.read()

    for name, port in SERVICES.items():
        dep = by_kind.get("Deployment", {}).get(name)
        if dep is None:
            errors.append(f"no Deployment {name}")
            continue
        for kind in ("Service", "PodDisruptionBudget", "NetworkPolicy"):
            if name not in by_kind.get(kind, {}):
                errors.append(f"no {kind} {name}")
        svc = by_kind.get("Service", {}).get(name)
        if svc and svc["spec"]["ports"][0]["port"] != port:
            errors.append(f"Service {name}: port {svc['spec']['ports'][0]['port']}, expected {port}")
        labels = dep["spec"]["template"]["metadata"]["labels"]
        if svc and any(labels.get(k) != v for k, v in svc["spec"]["selector"].items()):
            errors.append(f"Service {name}: selector does not match the pods")
        pdb = by_kind.get("PodDisruptionBudget", {}).get(name)
        if pdb and any(labels.get(k) != v for k, v in pdb["spec"]["selector"]["matchLabels"].items()):
            errors.append(f"PodDisruptionBudget {name}: selector does not match the pods")
        if overlay:
            image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
            if not image.startswith("harbor.example.com/buildchain/") or not image.endswith(":1.0.0"):
                errors.append(f"Deployment {name}: image {image} not set by the overlay")

    known_env = {}
    for name in SERVICES:
        known_env[name] = common | documented(CONFIG_FILES[name])
    known_env["buildchain-migrate"] = known_env["gateway"]

    for kind in ("Deployment", "Job"):
        for name, obj in by_kind.get(kind, {}).items():
            spec = pod_spec(obj)
            where = f"{kind} {name}"
            psc = spec.get("securityContext", {})
            service = name if name in SERVICES else obj["metadata"]["labels"].get("app.kubernetes.io/name")
            for c in spec["containers"]:
                csc = c.get("securityContext", {})
                if not (psc.get("runAsNonRoot") or csc.get("runAsNonRoot")):
                    errors.append(f"{where}: not runAsNonRoot")
                if csc.get("allowPrivilegeEscalation") is not False:
                    errors.append(f"{where}: allowPrivilegeEscalation is not false")
                res = c.get("resources", {})
                if not res.get("requests") or not res.get("limits"):
                    errors.append(f"{where}: resources need requests and limits")
                if kind == "Deployment":
                    rp = c.get("readinessProbe", {}).get("httpGet", {}).get("path")
                    lp = c.get("livenessProbe", {}).get("httpGet", {}).get("path")
                    if rp != "/readyz" or lp != "/healthz":
                        errors.append(f"{where}: readiness {rp}, liveness {lp}; expected /readyz, /healthz")
                names = set()
                for ef in c.get("envFrom", []):
                    ref = ef.get("configMapRef", {}).get("name")
                    if ref not in configmaps:
                        errors.append(f"{where}: envFrom ConfigMap {ref} is not rendered")
                    else:
                        names |= set(configmaps[ref].get("data", {}))
                for e in c.get("env", []):
                    names.add(e["name"])
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        if ref["name"] not in secrets:
                            errors.append(f"{where}: {e['name']} from Secret {ref['name']}, not in secret.example.yaml")
                        elif ref["key"] not in secrets[ref["name"]] and not ref.get("optional"):
                            errors.append(f"{where}: {e['name']} from {ref['name']}/{ref['key']}, a key secret.example.yaml lacks")
                for v in spec.get("volumes", []):
                    s = v.get("secret")
                    if s and s["secretName"] not in secrets:
                        errors.append(f"{where}: volume Secret {s['secretName']} not in secret.example.yaml")
                known = known_env.get(service, set())
                for n in sorted(names - known):
                    errors.append(f"{where}: {n} is not a setting {CONFIG_FILES.get(service, COMMON_FILE)} documents")
                for n in sorted(names):
                    if f"`{n}`" not in readme_text:
                        errors.append(f"{where}: {n} is not in deploy/README.md")
                if kind == "Deployment":
                    data = {}
                    for ef in c.get("envFrom", []):
                        data |= configmaps.get(ef["configMapRef"]["name"], {}).get("data", {})
                    if data.get("PORT") != str(SERVICES[name]):
                        errors.append(f"{where}: PORT {data.get('PORT')}, expected {SERVICES[name]}")
                    ports = [p["containerPort"] for p in c.get("ports", [])]
                    if ports != [SERVICES[name]]:
                        errors.append(f"{where}: containerPort {ports}, expected {SERVICES[name]}")
            for v in spec.get("volumes", []):
                cm = v.get("configMap", {}).get("name")
                if cm and cm not in configmaps:
                    errors.append(f"{where}: volume ConfigMap {cm} is not rendered")

    rbac_ok = False
    for role in by_kind.get("Role", {}).values():
        rules = {(tuple(r["apiGroups"]), tuple(r["resources"])): set(r["verbs"]) for r in role["rules"]}
        if rules.get((("batch",), ("jobs",)), set()) >= {"create", "get", "list", "watch", "delete"} and \
           rules.get((("",), ("pods", "pods/log")), set()) >= {"get", "list", "watch"}:
            rbac_ok = True
    if not rbac_ok:
        errors.append("no Role allowing jobs create/get/list/watch/delete and pods, pods/log get/list/watch")
    build = by_kind.get("Deployment", {}).get("build-service")
    if build and build["spec"]["template"]["spec"].get("serviceAccountName") not in by_kind.get("ServiceAccount", {}):
        errors.append("build-service's serviceAccountName is not rendered")
    if "buildchain-migrate" not in by_kind.get("Job", {}):
        errors.append("no Job buildchain-migrate")

    if overlay:
        def cm(prefix):
            for n, o in configmaps.items():
                if n.startswith(prefix + "-"):
                    return o.get("data", {})
            return {}
        if cm("checkout-service-config").get("CHECKOUT_ALLOW_FILE_URLS") != "false":
            errors.append("overlay: CHECKOUT_ALLOW_FILE_URLS must be \"false\"")
        for c in ("build-service-config", "gateway-config"):
            if cm(c).get("BUILD_DRIVER") != "kaniko-kubernetes":
                errors.append(f"overlay: {c} BUILD_DRIVER is not kaniko-kubernetes")
        if by_kind["Deployment"]["gateway"]["spec"].get("replicas") != 2:
            errors.append("overlay: gateway replicas is not 2")
        namespaces = {o["metadata"].get("namespace") for o in objs if o["kind"] != "Namespace"}
        if namespaces != {"buildchain"}:
            errors.append(f"overlay: objects in namespaces {sorted(map(str, namespaces))}, expected buildchain")
        for name, pol in by_kind.get("NetworkPolicy", {}).items():
            text = json.dumps(pol)
            if any(p in text for p in PLACEHOLDER_NETS):
                errors.append(f"overlay: NetworkPolicy {name} keeps a placeholder address")
    die(errors)

def secret_example_fake(path):
    errors = []
    for d in load_all(path):
        name = d["metadata"]["name"]
        for key, value in (d.get("stringData") or {}).items():
            if "FAKE" in value:
                continue
            if key == "gateway-token-sha256" and value == hashlib.sha256(b"FAKE-gateway-token").hexdigest():
                continue
            if key == ".dockerconfigjson":
                auths = json.loads(value)["auths"]
                if all("FAKE" in base64.b64decode(a["auth"]).decode() for a in auths.values()):
                    continue
            errors.append(f"{name}/{key}: does not look fake (every example value must contain FAKE)")
        if d.get("data"):
            errors.append(f"{name}: use stringData with FAKE values, not data")
    die(errors)

def workflow(path):
    errors = []
    doc = yaml.safe_load(open(path))
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    if not isinstance(on, dict) or "workflow_dispatch" not in on or "push" not in on:
        errors.append("on: needs push and workflow_dispatch")
    else:
        inputs = (on["workflow_dispatch"] or {}).get("inputs", {})
        for name in ("cache", "mirrors"):
            if inputs.get(name, {}).get("type") != "boolean":
                errors.append(f"workflow_dispatch input {name} must be a boolean")
    env = doc.get("env", {})
    if "vars.BUILDCHAIN_URL" not in str(env.get("BUILDCHAIN_URL")):
        errors.append("env BUILDCHAIN_URL must come from vars.BUILDCHAIN_URL")
    for name in ("BUILDCHAIN_CACHE", "BUILDCHAIN_MIRRORS"):
        if name not in env:
            errors.append(f"env {name} missing")
    if "secrets.BUILDCHAIN_TOKEN" in json.dumps(env):
        errors.append("BUILDCHAIN_TOKEN belongs on the step, not the whole workflow")
    jobs = doc.get("jobs", {})
    steps = [s for j in jobs.values() for s in j.get("steps", [])]
    if not all("runs-on" in j for j in jobs.values()):
        errors.append("every job needs runs-on")
    build = [s for s in steps if "buildchain" in s.get("run", "") or "build --repo" in s.get("run", "")]
    runs = "\n".join(s.get("run", "") for s in steps)
    for needle in ("--repo", "--ref", "--workload", "--service", "--push", "--wait", "--output json",
                   "GITHUB_STEP_SUMMARY", "docker run"):
        if needle not in runs:
            errors.append(f"no step runs {needle}")
    if not any("secrets.BUILDCHAIN_TOKEN" in str(s.get("env", {}).get("BUILDCHAIN_TOKEN")) for s in build):
        errors.append("the build step needs env BUILDCHAIN_TOKEN from secrets.BUILDCHAIN_TOKEN")
    flat = json.dumps(doc)
    for expr in ("github.server_url", "github.repository", "github.sha"):
        if expr not in flat:
            errors.append(f"{expr} is not used")
    for s in steps:
        if "${{" in s.get("run", ""):
            errors.append(f"step {s.get('name')}: ${{{{ }}}} inside run: (pass values through env)")
    die(errors)

def workflow_runs(path, outdir):
    doc = yaml.safe_load(open(path))
    n = 0
    for job in doc.get("jobs", {}).values():
        for s in job.get("steps", []):
            if "run" in s:
                n += 1
                with open(os.path.join(outdir, f"run-{n}.sh"), "w") as f:
                    f.write("#!/bin/bash\n# step: %s\n%s" % (s.get("name", "?"), s["run"]))
    print(n)

def job_scripts(rendered, outdir):
    n = 0
    for o in load_all(rendered):
        if o["kind"] != "Job":
            continue
        for c in o["spec"]["template"]["spec"]["containers"]:
            command = (c.get("command") or []) + (c.get("args") or [])
            if command[:2] in (["/bin/bash", "-c"], ["bash", "-c"]) and len(command) >= 3:
                n += 1
                with open(os.path.join(outdir, f"job-{n}.sh"), "w") as f:
                    f.write("#!/bin/bash\n# Job %s\n%s" % (o["metadata"]["name"], command[2]))
    print(n)

def cli_flags(path, *sources):
    text = "\n".join(open(p).read() for p in sources)
    runs = "\n".join(s.get("run", "") for j in yaml.safe_load(open(path))["jobs"].values() for s in j.get("steps", []))
    errors = []
    for flag in sorted(set(re.findall(r"(?<![\w-])--([a-z][a-z-]+)", runs))):
        if flag in ("rm", "username", "password-stdin", "arg", "raw-output"):  # docker's and jq's
            continue
        camel = re.sub(r"-(\w)", lambda m: m.group(1).upper(), flag)
        # an @Option's long name: .customLong("x"), SecretOptions' secret: "x", or the property's own
        declared = f'customLong("{flag}")' in text or f'secret: "{flag}"' in text
        if not declared and not re.search(rf"\bvar {camel}\b", text):
            errors.append(f"--{flag} is not an option of the buildchain CLI")
    die(errors)

cmd, *args = sys.argv[1:]
{"containerfiles": lambda: containerfiles(args),
 "targets": lambda: containerfile_targets(*args),
 "manifests": lambda: manifests(args[0], args[1], args[2], args[3] == "overlay"),
 "secret-fake": lambda: secret_example_fake(*args),
 "workflow": lambda: workflow(*args),
 "workflow-runs": lambda: workflow_runs(*args),
 "job-scripts": lambda: job_scripts(*args),
 "cli-flags": lambda: cli_flags(*args)}[cmd]()
PY
py() { python3 -c "$PYCODE" "$@"; }

# ---------------------------------------------------------------------------------
tools_ok=1
for tool in kubectl kubernetes-validate check-jsonschema; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    fail "tools" "$tool not found (run deploy/local/install-deps.sh)"
    tools_ok=0
  fi
done
if ! python3 -c 'import dockerfile, yaml' 2>/dev/null; then
  fail "tools" "python3 needs the dockerfile and yaml modules (run deploy/local/install-deps.sh)"
  tools_ok=0
fi
((tools_ok)) && ok "tools"

# -- containers ---------------------------------------------------------------------
mapfile -t containerfiles < <(find deploy/containers -maxdepth 1 -type f \
  \( -name 'Containerfile' -o -name 'Containerfile.*' -o -name '*.Containerfile' -o -name 'Dockerfile*' \) | sort)
if ((${#containerfiles[@]} == 0)); then
  fail "containerfiles-parse" "no Containerfile under deploy/containers"
else
  check "containerfiles-parse (${#containerfiles[@]}, BuildKit parser)" py containerfiles "${containerfiles[@]}"
fi
check "containerfile-targets" py targets deploy/containers/Containerfile

# buildchain-probe against a loopback server: 200 → 0, 503 → 1, closed port → 1.
probe_check() {
  local probe=deploy/containers/buildchain-probe port
  bash -n "$probe" || return 1
  python3 - >"$tmp/probe-port" 2>/dev/null <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.timeout = 10
for _ in range(6):
    s.handle_request()
PY
  probe_server_pid=$!
  for _ in $(seq 50); do
    [[ -s $tmp/probe-port ]] && break
    sleep 0.1
  done
  port=$(cat "$tmp/probe-port")
  [[ -n $port ]] || { echo "test server did not start"; return 1; }
  PORT=$port bash "$probe" /healthz || { echo "/healthz (200) not accepted"; return 1; }
  bash "$probe" /healthz "$port" || { echo "/healthz with the port as argument not accepted"; return 1; }
  if bash "$probe" /readyz "$port"; then echo "/readyz (503) accepted"; return 1; fi
  kill "$probe_server_pid" 2>/dev/null
  wait "$probe_server_pid" 2>/dev/null
  probe_server_pid=""
  if bash "$probe" /healthz "$port"; then echo "a closed port accepted"; return 1; fi
  return 0
}
check "buildchain-probe" probe_check

# shell_scripts EXTRACTOR FILE: the shell scripts py EXTRACTOR writes out of FILE pass
# bash -n, and shellcheck where it is installed.
shell_scripts() {
  local dir n f
  dir=$(mktemp -d "$tmp/scripts.XXXX")
  n=$(py "$1" "$2" "$dir") || return 1
  ((n > 0)) || { echo "no script found in $2"; return 1; }
  for f in "$dir"/*.sh; do bash -n "$f" || return 1; done
  if command -v shellcheck >/dev/null 2>&1; then
    # variables from the step's or the container's environment are set outside the script
    shellcheck -s bash -e SC2154 "$dir"/*.sh || return 1
  fi
}

# -- kubernetes ---------------------------------------------------------------------
kustomize_version=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')
if [[ -z $kustomize_version || $kustomize_version -lt 4 ]]; then
  fail "kustomize-version" "kubectl's kustomize is v${kustomize_version:-?}; the overlay needs v4+ (kubectl 1.21+: replicas, patches)"
else
  ok "kustomize-version (v$kustomize_version)"
fi
check "kustomize-base" kubectl kustomize deploy/k8s/base -o "$tmp/base.yaml"
check "kustomize-example" kubectl kustomize deploy/k8s/overlays/example -o "$tmp/example.yaml"
secret_example=deploy/k8s/overlays/example/secret.example.yaml

# kubectl decodes every object (what apply's builder does before it asks the server);
# --local keeps it offline. Each object must come back once by name.
decode_check() {
  local file=$1 expected got
  expected=$(grep -c '^kind:' "$file")
  kubectl label --local --dry-run=client -o name -f "$file" buildchain-check=ok >"$tmp/decoded" || return 1
  got=$(wc -l <"$tmp/decoded")
  [[ $got -eq $expected ]] || { echo "decoded $got of $expected objects"; return 1; }
}
# strictly (unknown fields are errors) against the oldest supported and the newest schemas
validate_both() {
  kubernetes-validate --strict --quiet -k 1.28.0 "$1" && kubernetes-validate --strict --quiet "$1"
}
if [[ -s $tmp/example.yaml ]]; then
  check "kubectl-decode-example" decode_check "$tmp/example.yaml"
  check "schema-strict-example (k8s 1.28 and latest)" validate_both "$tmp/example.yaml"
  check "manifests-example" py manifests "$tmp/example.yaml" "$secret_example" deploy/README.md overlay
  check "migrate-job-script (bash -n$(command -v shellcheck >/dev/null 2>&1 && echo ', shellcheck'))" \
    shell_scripts job-scripts "$tmp/example.yaml"
else
  fail "kubectl-decode-example" "nothing rendered"
fi
if [[ -s $tmp/base.yaml ]]; then
  check "schema-strict-base" kubernetes-validate --strict --quiet -k 1.28.0 "$tmp/base.yaml"
  check "manifests-base" py manifests "$tmp/base.yaml" "$secret_example" deploy/README.md base
fi
check "secret-example-schema" kubernetes-validate --strict --quiet -k 1.28.0 "$secret_example"
check "secret-example-fake" py secret-fake "$secret_example"
if git check-ignore -q deploy/k8s/overlays/example/secret.yaml 2>/dev/null; then
  ok "secret-yaml-ignored"
else
  fail "secret-yaml-ignored" "deploy/k8s/overlays/example/secret.yaml would not be git-ignored"
fi

if [[ -n ${CHECK_DEPLOY_KUBECONFIG:-} ]]; then
  check "apply-dry-run-server" env KUBECONFIG="$CHECK_DEPLOY_KUBECONFIG" \
    kubectl apply --dry-run=server -f "$tmp/example.yaml"
else
  skip "apply-dry-run-server" "no cluster (set CHECK_DEPLOY_KUBECONFIG to run it)"
fi

# -- github workflow ------------------------------------------------------------------
workflow=deploy/github/build.yml
check "workflow-keys" py workflow "$workflow"
check "workflow-schema" check-jsonschema --builtin-schema vendor.github-workflows "$workflow"
check "workflow-scripts (bash -n$(command -v shellcheck >/dev/null 2>&1 && echo ', shellcheck'))" \
  shell_scripts workflow-runs "$workflow"
check "workflow-cli-flags" py cli-flags "$workflow" \
  Services/BuildchainCLI/Commands/BuildCommand.swift Services/BuildchainCLI/GatewayOptions.swift \
  Services/BuildchainCLI/SecretOptions.swift

summary="$passed passed, $failed failed"
((skipped > 0)) && summary+=", $skipped skipped"
echo "check-deploy: $summary"
((failed == 0))
