#!/usr/bin/env python3
"""Rooms a newcomer can find their way in: file and function sizes in src/.

No source file over 700 lines, and no function over 80 lines, outside
src/simulator and test-only code (`tests.rs` files, `#[cfg(test)]`
modules). A function that is a table (one arm or row per case, nothing to
extract) may be longer if the line before it (among its doc comment and
attributes) says `// table-like: <why>`. Prints what is over; with --check
exits 1 when anything is.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
MAX_FILE, MAX_FN = 700, 80
FN = re.compile(r"^\s*(?:pub(?:\([a-z:]+\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+([A-Za-z_][A-Za-z0-9_]*)")


def strip(line, state):
    """The line's code with strings, chars and comments blanked; `state`
    carries an open block comment or (raw) string across lines."""
    out, i, n = [], 0, len(line)
    while i < n:
        if state["block"]:
            j = line.find("*/", i)
            if j < 0:
                return "".join(out), state
            state["block"], i = False, j + 2
            continue
        if state["raw"] is not None:
            j = line.find('"' + "#" * state["raw"], i)
            if j < 0:
                return "".join(out), state
            state["raw"], i = None, j + 1 + state["raw_n"]
            continue
        if state["str"]:
            j = i
            while j < n and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            if j >= n:
                return "".join(out), state
            state["str"], i = False, j + 1
            continue
        c = line[i]
        if line.startswith("//", i):
            break
        if line.startswith("/*", i):
            state["block"], i = True, i + 2
            continue
        m = re.match(r'b?r(#*)"', line[i:])
        if m and (i == 0 or not (line[i - 1].isalnum() or line[i - 1] == "_")):
            state["raw"], state["raw_n"] = len(m.group(1)), len(m.group(1))
            i += m.end()
            continue
        if c == '"':
            state["str"], i = True, i + 1
            continue
        m = re.match(r"'(\\.|[^'\\])'", line[i:])
        if c == "'" and m:
            i += m.end()
            continue
        out.append(c)
        i += 1
    return "".join(out), state


def scan(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    state = {"block": False, "raw": None, "raw_n": 0, "str": False}
    code = []
    for line in lines:
        c, state = strip(line, state)
        code.append(c)
    fns, i = [], 0
    test_depth = None
    depth = 0
    while i < len(lines):
        c = code[i]
        if re.match(r"^\s*#\[cfg\(test\)\]", lines[i]) and test_depth is None:
            # the item after is test-only: skip to its end
            j = i + 1
            while j < len(lines) and not re.search(r"[{;]", code[j]):
                j += 1
            if ";" in code[j] and "{" not in code[j]:
                i = j + 1
                continue
            d, k = 0, j
            while k < len(lines):
                d += code[k].count("{") - code[k].count("}")
                if d <= 0 and "{" in "".join(code[j : k + 1]):
                    break
                k += 1
            i = k + 1
            continue
        m = FN.match(c)
        if m:
            j = i
            while j < len(lines) and "{" not in code[j] and ";" not in code[j]:
                j += 1
            if j < len(lines) and "{" in code[j] and not (";" in code[j] and code[j].index(";") < code[j].index("{")):
                d, k = 0, j
                while k < len(lines):
                    d += code[k].count("{") - code[k].count("}")
                    if d <= 0:
                        break
                    k += 1
                length = k - i + 1
                marked = False
                p = i - 1
                while p >= 0 and re.match(r"^\s*(///|//|#\[)", lines[p]):
                    if "table-like:" in lines[p]:
                        marked = True
                    p -= 1
                fns.append((m.group(1), i + 1, length, marked))
                # nested fns are measured with their parent, and on their own
        i += 1
    return len(lines), fns


def main():
    over = []
    for d, _, fs in os.walk(ROOT):
        if os.path.relpath(d, ROOT).split(os.sep)[0] == "simulator":
            continue
        for f in sorted(fs):
            if not f.endswith(".rs") or f == "tests.rs":
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, os.path.join(ROOT, ".."))
            n, fns = scan(path)
            if n > MAX_FILE:
                over.append(f"{rel}: {n} lines (at most {MAX_FILE})")
            for name, line, length, marked in fns:
                if length > MAX_FN and not marked:
                    over.append(f"{rel}:{line}: fn {name} is {length} lines (at most {MAX_FN})")
    for o in sorted(over):
        print(o)
    print(f"{len(over)} over the limits")
    if "--check" in sys.argv and over:
        sys.exit(1)


if __name__ == "__main__":
    main()
