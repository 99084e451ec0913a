#!/usr/bin/env python3
"""Writes a throwaway SwiftPM package that builds a bench executable against some of the
project's Shared modules, taking every module's dependencies, settings and system library from
the project's own Package.swift (`swift package dump-package`), so a bench cannot fall behind
the manifest. SwiftPM refuses sources outside a package, hence the symbolic links.

Usage: throwaway-package.py ROOT DIR NAME EXECUTABLE_SOURCES MODULE...
  ROOT                the repository root
  DIR                 the package to write (DIR/Package.swift, DIR/Shared/<module> links)
  NAME                the package's and its executable's name
  EXECUTABLE_SOURCES  the executable's folder; linked as DIR/Sources/NAME unless it is that folder
  MODULE...           the Shared modules the executable imports (their dependencies follow)
"""
import json
import os
import subprocess
import sys


def main():
    root, directory, name, sources, *modules = sys.argv[1:]
    manifest = json.loads(subprocess.run(
        ["swift", "package", "dump-package", "--package-path", root],
        check=True, capture_output=True, text=True).stdout)
    targets = {target["name"]: target for target in manifest["targets"]}
    needed, queue = [], list(modules)
    while queue:
        module = queue.pop()
        if module in needed:
            continue
        needed.append(module)
        queue += [dependency["byName"][0] for dependency in targets[module]["dependencies"] if "byName" in dependency]

    os.makedirs(os.path.join(directory, "Shared"), exist_ok=True)
    os.makedirs(os.path.join(directory, "Sources"), exist_ok=True)
    for module in needed:
        link(os.path.join(root, targets[module]["path"]), os.path.join(directory, "Shared", module))
    executable = os.path.join(directory, "Sources", name)
    if os.path.realpath(sources) != os.path.realpath(executable):
        link(os.path.realpath(sources), executable)

    packages = {}
    lines = []
    for module in sorted(needed):
        target = targets[module]
        path = f'"Shared/{module}"'
        if target["type"] == "system":
            lines.append(f'.systemLibrary(name: "{module}", path: {path}, pkgConfig: "{target["pkgConfig"]}")')
            continue
        dependencies = []
        for dependency in target["dependencies"]:
            if "byName" in dependency:
                dependencies.append(f'"{dependency["byName"][0]}"')
            else:
                product, package = dependency["product"][:2]
                packages[package] = True
                dependencies.append(f'.product(name: "{product}", package: "{package}")')
        features = [
            f'.enableUpcomingFeature("{setting["kind"]["enableUpcomingFeature"]["_0"]}")'
            for setting in target.get("settings", []) if "enableUpcomingFeature" in setting["kind"]]
        lines.append(
            f'.target(name: "{module}", dependencies: [{", ".join(dependencies)}], path: {path}, '
            f'swiftSettings: [{", ".join(features)}])')
    imports = ", ".join('"%s"' % module for module in modules)
    lines.append(f'.executableTarget(name: "{name}", dependencies: [{imports}], path: "Sources/{name}")')

    remotes = []
    for dependency in manifest["dependencies"]:
        control = dependency["sourceControl"][0]
        if control["identity"] in packages:
            url = control["location"]["remote"][0]["urlString"]
            lower = control["requirement"]["range"][0]["lowerBound"]
            remotes.append(f'.package(url: "{url}", from: "{lower}")')
    with open(os.path.join(directory, "Package.swift"), "w") as manifest_file:
        manifest_file.write(
            "// swift-tools-version:6.2\n// Written by bench/lib/throwaway-package.py from the project's Package.swift.\n"
            "import PackageDescription\n\nlet package = Package(\n"
            f'    name: "{name}",\n    platforms: [.macOS(.v15)],\n'
            f'    dependencies: [{", ".join(remotes)}],\n    targets: [\n'
            + "".join(f"        {line},\n" for line in lines) + "    ]\n)\n")


def link(target, path):
    if os.path.islink(path) or os.path.exists(path):
        if os.path.islink(path) and os.readlink(path) == target:
            return
        os.remove(path)
    os.symlink(target, path)


if __name__ == "__main__":
    main()
