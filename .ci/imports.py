#!/usr/bin/env python3
"""The import graph between src/ files: cycles, and arrows against the layers.

Reads every `crate::`, `super::` and `self::` path in src/**/*.rs (outside
`#[cfg(test)] mod tests` and test-only `tests.rs` files), resolves it to the
file of the longest module prefix, and prints the cycles (strongly
connected components of more than one file) and every import from a lower
layer into a higher one. The layers are the ```layers block of
ARCHITECTURE.md, lowest first, one `name: module, module, ...` line each;
a file belongs to the layer of its longest listed module prefix, and every
file must belong to one. With --check it exits 1 on a cycle, an arrow up,
or a file in no layer.
"""
import os
import re
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "src")
ARCHITECTURE = os.path.join(HERE, "..", "ARCHITECTURE.md")


def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def files():
    out = {}
    for d, _, fs in os.walk(ROOT):
        for f in fs:
            if f.endswith(".rs") and f != "tests.rs":
                p = os.path.join(d, f)
                out[module_of(p)] = p
    return out


PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
GROUP = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*?)\}", re.S)


def code_of(path):
    text = open(path, encoding="utf-8").read()
    cut = re.search(r"^#\[cfg\(test\)\]\s*\n\s*mod tests", text, re.M)
    if cut:
        text = text[: cut.start()]
    text = re.sub(r"//[^\n]*", "", text)
    return text


def base(mod, kind, is_dir_module):
    if kind == "crate":
        return ()
    # super:: of src/a/b.rs is crate::a; of src/a/mod.rs it is crate.
    parent = mod if is_dir_module else mod[:-1]
    if kind == "self":
        return mod
    return parent[:-1] if is_dir_module else parent


def edges():
    mods = files()
    graph = defaultdict(set)
    for mod, path in mods.items():
        is_dir = os.path.basename(path) in ("mod.rs", "lib.rs", "main.rs")
        text = code_of(path)
        paths = []
        for m in GROUP.finditer(text):
            head = m.group(2).strip(":").split("::") if m.group(2) else []
            for item in re.split(r"[,\s]+", re.sub(r"\{[^{}]*\}", "", m.group(3))):
                item = item.strip().split(" as ")[0]
                if item and item not in ("self",):
                    paths.append((m.group(1), head + item.split("::")))
                elif item == "self":
                    paths.append((m.group(1), head))
        for m in PATH.finditer(text):
            paths.append((m.group(1), m.group(2).strip(":").split("::")))
        for kind, parts in paths:
            full = base(mod, kind, is_dir) + tuple(p for p in parts if p)
            for n in range(len(full), 0, -1):
                target = full[:n]
                if target in mods:
                    break
            else:
                continue
            if target != mod and not (target == () or mod[: len(target)] == target and kind == "super"):
                if target == ():
                    continue
                graph[mod].add(target)
    return mods, graph


def sccs(nodes, graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def name(m):
    return "::".join(m) or "crate"


def layers():
    """[(layer name, [module tuples])], lowest first, from ARCHITECTURE.md."""
    text = open(ARCHITECTURE, encoding="utf-8").read()
    block = re.search(r"^```layers\n(.*?)^```", text, re.M | re.S)
    if not block:
        sys.exit("ARCHITECTURE.md: no ```layers block (the layering this check enforces)")
    out = []
    for line in block.group(1).splitlines():
        line = line.strip()
        if not line:
            continue
        layer, _, members = line.partition(":")
        mods = [tuple(m.strip().split("::")) for m in members.split(",") if m.strip()]
        out.append((layer.strip(), mods))
    return out


def layer_of(mod, table):
    """The index of the layer of the longest listed prefix of `mod`."""
    best, found = -1, None
    for i, (_, members) in enumerate(table):
        for m in members:
            if mod[: len(m)] == m and len(m) > best:
                best, found = len(m), i
    return found


def main():
    mods, graph = edges()
    cycles = sccs(sorted(mods), graph)
    n_edges = sum(len(v) for v in graph.values())
    table = layers()
    unplaced = [m for m in sorted(mods) if m != () and layer_of(m, table) is None]
    upward = [
        (a, b)
        for a in sorted(graph)
        for b in sorted(graph[a])
        if a not in unplaced and b not in unplaced and layer_of(a, table) < layer_of(b, table)
    ]
    print(
        f"{len(mods)} files, {n_edges} import edges, {len(cycles)} cycles, "
        f"{len(upward)} imports up across {len(table)} layers"
    )
    for m in unplaced:
        print(f"in no layer of ARCHITECTURE.md: {name(m)}")
    for a, b in upward:
        la, lb = table[layer_of(a, table)][0], table[layer_of(b, table)][0]
        print(f"import up: {name(a)} ({la}) -> {name(b)} ({lb})")
    for c in cycles:
        members = sorted(c)
        print("cycle: " + ", ".join(name(m) for m in members))
        for a in members:
            for b in sorted(graph[a]):
                if b in c:
                    print(f"    {name(a)} -> {name(b)}")
    if "--check" in sys.argv and (cycles or upward or unplaced):
        sys.exit(1)


if __name__ == "__main__":
    main()
