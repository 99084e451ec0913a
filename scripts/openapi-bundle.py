#!/usr/bin/env python3
"""Bundles one spec of openapi/ into a single self-contained OpenAPI document (JSON).

swift-openapi-generator and the services' request validator read one document, so the
`./common.yaml#/...` and `./runs.yaml#/...` references are resolved here: a component is
copied under the same name into the bundle's `components`, a path item is inlined.
Usage: openapi-bundle.py [--without-paths /a,/b] openapi/checkout.yaml > bundled.json
(`--without-paths` leaves those paths out, e.g. the operational ones every service shares,
which openapi/common.yaml generates once.)
"""
import json
import os
import sys

import yaml


def load(path, cache):
    path = os.path.normpath(path)
    if path not in cache:
        with open(path, encoding="utf-8") as f:
            cache[path] = yaml.safe_load(f)
    return cache[path]


def pointer(document, fragment):
    node = document
    for part in fragment.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


class Bundler:
    def __init__(self, root_path):
        self.cache = {}
        self.root_path = os.path.normpath(root_path)
        self.root = load(root_path, self.cache)
        self.copied = {}  # (kind, name) -> source file

    def resolve(self, node, base):
        """Returns node with every reference made internal to the bundle."""
        if isinstance(node, list):
            return [self.resolve(item, base) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node and isinstance(node["$ref"], str):
            return self.reference(node, base)
        return {key: self.resolve(value, base) for key, value in node.items()}

    def reference(self, node, base):
        target, _, fragment = node["$ref"].partition("#")
        source = os.path.normpath(os.path.join(os.path.dirname(base), target)) if target else base
        parts = fragment.lstrip("/").split("/")
        if parts[0] == "paths":
            # A path item is inlined: generators take no reference there.
            return self.resolve(pointer(load(source, self.cache), fragment), source)
        if parts[0] != "components" or len(parts) != 3:
            sys.exit(f"unsupported reference {node['$ref']} in {base}")
        kind, name = parts[1], parts[2]
        if source != self.root_path:
            self.copy(kind, name, source)
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {"$ref": f"#/components/{kind}/{name}", **self.resolve(rest, base)}

    def copy(self, kind, name, source):
        key = (kind, name)
        if key in self.copied:
            if self.copied[key] != source:
                sys.exit(f"components/{kind}/{name} is defined in both {self.copied[key]} and {source}")
            return
        own = self.root.get("components", {}).get(kind, {})
        if name in own:
            sys.exit(f"components/{kind}/{name} of {source} collides with {self.root_path}'s own")
        self.copied[key] = source
        component = pointer(load(source, self.cache), f"/components/{kind}/{name}")
        self.extra.setdefault(kind, {})[name] = self.resolve(component, source)

    def bundle(self):
        self.extra = {}
        self.inline_aliases()
        document = self.resolve(self.root, self.root_path)
        components = document.setdefault("components", {})
        for kind, entries in self.extra.items():
            components.setdefault(kind, {}).update(entries)
        for kind in components:
            components[kind] = dict(sorted(components[kind].items()))
        return document


    def inline_aliases(self):
        """A component of the root that only names the same component elsewhere takes its content."""
        for kind, entries in self.root.get("components", {}).items():
            for name, value in list(entries.items()):
                ref = value.get("$ref", "") if isinstance(value, dict) else ""
                target, _, fragment = ref.partition("#")
                if target and len(value) == 1 and fragment == f"/components/{kind}/{name}":
                    source = os.path.normpath(os.path.join(os.path.dirname(self.root_path), target))
                    self.copied[(kind, name)] = source
                    entries[name] = self.resolve(pointer(load(source, self.cache), fragment), source)


if __name__ == "__main__":
    args = sys.argv[1:]
    without = []
    if args[:1] == ["--without-paths"] and len(args) == 3:
        without, args = args[1].split(","), args[2:]
    if len(args) != 1:
        sys.exit(__doc__)
    bundler = Bundler(args[0])
    for path in without:
        bundler.root.get("paths", {}).pop(path, None)
    json.dump(bundler.bundle(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
