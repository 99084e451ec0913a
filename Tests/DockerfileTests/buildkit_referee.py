#!/usr/bin/env python3
"""Independent referee for the Dockerfile rewrite, using BuildKit's own parser (PyPI `dockerfile`).

usage: buildkit_referee.py ORIGINAL REWRITTEN REPORT.json
       buildkit_referee.py --batch MANIFEST.json
           MANIFEST.json: [{"name", "original", "rewritten", "report"}] (paths); prints a JSON
           object name → "ok" or the mismatch, and exits 0.

REPORT.json: {"proxies": "docker.io=…,…", "changes": [{"line", "instruction", "from", "to", "form"}],
              "pulled": [{"line", "instruction", "reference"}],
              "buildArgs": {…}, "buildArgsAfter": {…}}   (both optional: the caller's build args,
              and the ones the rewriter says to pass instead)

Checks, exiting 1 with a message on the first mismatch:
1. both files parse to the same instructions (command, JSON form, start and end lines, heredocs);
2. where an instruction differs, the difference is exactly the image references the change list
   names on those lines (reverting them gives the original back);
3. every byte outside the changes is identical (reverting all changes gives the original file);
4. each stage base the build pulls (pre-FROM ARG defaults expanded) is the proxied name computed
   here, independently, both in the rewritten file and in the rewriter's own list.
"""
import json
import re
import sys

import dockerfile

DOCKER_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


class Mismatch(Exception):
    pass


def fail(message):
    raise Mismatch(message)


def parse_proxies(spec):
    proxies = {}
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        registry, target = entry.split("=", 1)
        registry = registry.strip().lower()
        proxies["docker.io" if registry in DOCKER_HUB_ALIASES else registry] = target.strip().rstrip("/")
    return proxies


def split_reference(ref):
    """(name, suffix): suffix is ':tag', '@digest' or both, as written."""
    at = ref.find("@")
    name, suffix = (ref, "") if at < 0 else (ref[:at], ref[at:])
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, suffix = name[:colon], name[colon:] + suffix
    return name, suffix


def normalize(name):
    """(registry, repository) as distribution/reference splits a name."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        registry, repository = first.lower(), rest
    else:
        registry, repository = "docker.io", name
    if registry in DOCKER_HUB_ALIASES:
        registry = "docker.io"
    if registry == "docker.io" and "/" not in repository:
        repository = "library/" + repository
    return registry, repository


def proxied(ref, proxies):
    name, suffix = split_reference(ref)
    if "$" in name:
        return ref  # cannot be resolved: left as is
    registry, repository = normalize(name)
    full = registry + "/" + repository
    for target in proxies.values():
        if full == target or full.startswith(target + "/"):
            return ref  # already proxied
    if registry not in proxies:
        return ref
    return proxies[registry] + "/" + repository + suffix


VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-+])([^}]*))?\}|\$(\w+)")


def expand(word, env):
    """Shell-style expansion of the simple forms; unknown variables stay as written."""
    def substitute(match):
        name = match.group(1) or match.group(4)
        op, alt = match.group(2), match.group(3)
        value = env.get(name)
        if op in (":-", "-"):
            is_set = value is not None and (op == "-" or value != "")
            return value if is_set else expand(alt, env)
        if op in (":+", "+"):
            is_set = value is not None and (op == "+" or value != "")
            return expand(alt, env) if is_set else ""
        return match.group(0) if value is None else value

    return VARIABLE.sub(substitute, unquote(word))


def unquote(word):
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word


PLATFORM_ARGS = {
    "TARGETPLATFORM": "linux/amd64", "TARGETOS": "linux", "TARGETARCH": "amd64", "TARGETVARIANT": "",
    "BUILDPLATFORM": "linux/amd64", "BUILDOS": "linux", "BUILDARCH": "amd64", "BUILDVARIANT": "",
}


def stage_bases(commands, build_args):
    """Expanded base of every stage that pulls an image, in order: (line, reference).

    Build args override the defaults of the ARGs declared before the first FROM; BuildKit's
    automatic platform args are those of a linux/amd64 build."""
    env = dict(PLATFORM_ARGS)
    seen_from = False
    stages = set()
    bases = []
    for c in commands:
        if c.cmd.upper() == "ARG" and not seen_from:
            for arg in c.value:
                name, eq, default = arg.partition("=")
                if name in build_args:
                    env[name] = build_args[name]
                elif eq:
                    env[name] = expand(default, env)
        if c.cmd.upper() != "FROM":
            continue
        seen_from = True
        base = expand(c.value[0], env)
        if base.lower() != "scratch" and base.lower() not in stages:
            bases.append((c.start_line, base))
        if len(c.value) == 3:
            stages.add(c.value[2].lower())
    return bases


def revert(text, changes):
    """Puts each change's `from` back in place of its `to`, on its line, left to right."""
    lines = text.splitlines(keepends=True)
    cursor = {}
    for change in changes:
        index = change["line"] - 1
        if index >= len(lines):
            fail(f"change on line {change['line']} is past the end of the rewritten file")
        line = lines[index]
        at = line.find(change["to"], cursor.get(index, 0))
        if at < 0:
            fail(f"line {change['line']}: rewritten text {change['to']!r} not found in {line!r}")
        lines[index] = line[:at] + change["from"] + line[at + len(change["to"]):]
        cursor[index] = at + len(change["from"])
    return "".join(lines)


def revert_string(value, changes):
    for change in changes:
        value = value.replace(change["to"], change["from"], 1)
    return value


def check(original_path, rewritten_path, report_path):
    report = json.load(open(report_path, encoding="utf-8"))
    proxies = parse_proxies(report["proxies"])
    changes = report["changes"]
    original_text = open(original_path, encoding="utf-8", newline="").read()
    rewritten_text = open(rewritten_path, encoding="utf-8", newline="").read()

    # 3. Byte identity outside the changes.
    if revert(rewritten_text, changes) != original_text:
        fail("reverting the changes does not give the original bytes back")

    # 1. Same instructions on the same lines.
    before = dockerfile.parse_file(original_path)
    after = dockerfile.parse_file(rewritten_path)
    if len(before) != len(after):
        fail(f"{len(before)} instructions before, {len(after)} after")
    accounted = set()
    for a, b in zip(before, after):
        where = f"instruction {a.cmd} at lines {a.start_line}-{a.end_line}"
        for field in ("cmd", "sub_cmd", "json", "start_line", "end_line", "heredocs"):
            if getattr(a, field) != getattr(b, field):
                fail(f"{where}: {field} differs: {getattr(a, field)!r} -> {getattr(b, field)!r}")
        # 2. Differences are exactly the listed references.
        mine = [c for c in changes if a.start_line <= c["line"] <= a.end_line]
        accounted.update(id(c) for c in mine)
        if a.original == b.original and a.flags == b.flags and a.value == b.value:
            if mine:
                fail(f"{where}: changes listed but nothing differs: {mine}")
            continue
        if not mine:
            fail(f"{where}: differs without a listed change: {a.original!r} -> {b.original!r}")
        for c in mine:
            if c["instruction"] != a.cmd.upper():
                fail(f"{where}: change names instruction {c['instruction']}")
            resolved = c.get("form") == "resolved"  # variables replaced by their values: any suffix
            if "\n" in c["to"] or not (resolved or c["to"].endswith(split_reference(c["from"])[1])):
                fail(f"{where}: change {c['from']!r} -> {c['to']!r} is not a reference rewrite")
        if revert_string(b.original, mine) != a.original:
            fail(f"{where}: {b.original!r} is not {a.original!r} with only {mine} rewritten")
        for field in ("flags", "value"):
            for x, y in zip(getattr(a, field), getattr(b, field)):
                if x != y and revert_string(y, mine) != x:
                    fail(f"{where}: {field} {y!r} is not {x!r} with only the listed references rewritten")
    if len(accounted) != len(changes):
        fail("some changes fall outside every instruction")

    # 4. Pulled images.
    build_args = report.get("buildArgs", {})
    expected = [(line, proxied(ref, proxies)) for line, ref in stage_bases(before, build_args)]
    actual = stage_bases(after, report.get("buildArgsAfter", build_args))
    if expected != actual:
        fail(f"stage bases after rewriting: expected {expected}, got {actual}")
    reported = [(p["line"], p["reference"]) for p in report["pulled"] if p["instruction"] == "FROM"]
    if reported != expected:
        fail(f"rewriter reports pulled images {reported}, referee expects {expected}")
    return f"{len(before)} instructions, {len(changes)} changes, {len(expected)} pulled stage bases"


def main():
    if sys.argv[1] == "--batch":
        verdicts = {}
        for case in json.load(open(sys.argv[2], encoding="utf-8")):
            try:
                check(case["original"], case["rewritten"], case["report"])
                verdicts[case["name"]] = "ok"
            except Mismatch as mismatch:
                verdicts[case["name"]] = str(mismatch)
            except Exception as error:  # a parse error of BuildKit's, for instance
                verdicts[case["name"]] = f"{type(error).__name__}: {error}"
        print(json.dumps(verdicts))
        return
    try:
        print("ok:", check(*sys.argv[1:4]))
    except Mismatch as mismatch:
        print(mismatch, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
