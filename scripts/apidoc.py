#!/usr/bin/env python3
"""apidoc.py -- the API reference, generated from the public headers.

    scripts/apidoc.py OUT.md [--check] HEADER...

Every public function is declared once, in include/, with its contract in the
comment above it (or at its end of line). This script turns the headers into
one Markdown page: each `/* ---- name */` divider becomes a section, and each
paragraph (lines between blank lines) that declares MYR_API functions becomes
an entry: the comment's prose, then the declarations. With --check, a public
function without a comment in its paragraph is an error (exit 1): the build
runs it, so CI fails on an undocumented function.
"""
import re
import sys

DIVIDER = re.compile(r"^/\*\s*-{3,}\s*(.*?)\s*\*/\s*$")


def paragraphs(lines):
    """Blocks of consecutive non-blank lines (a comment never splits one)."""
    block, in_comment = [], False
    for line in lines:
        if not line.strip() and not in_comment:
            if block:
                yield block
            block = []
            continue
        block.append(line)
        # Track /* ... */ so a blank line inside a comment does not split it.
        for tok in re.findall(r"/\*|\*/", line):
            in_comment = tok == "/*"
    if block:
        yield block


def entries(block):
    """A paragraph as (prose, code lines) pairs: each comment that stands on
    its own lines documents the code lines after it, up to the next one."""
    out, prose, code, in_comment = [], [], [], False
    for line in block:
        s = line.strip()
        if in_comment or s.startswith("/*"):
            if code:
                out.append(("\n".join(prose).strip(), code))
                prose, code = [], []
            text = re.sub(r"^/\*+\s?|\s?\*+/$|^\*\s?", "", s)
            if text:
                prose.append(text.strip())
            in_comment = not s.endswith("*/")
            continue
        code.append(line.rstrip())
    if code or prose:
        out.append(("\n".join(prose).strip(), code))
    return out


def main(argv):
    out_path, check = argv[1], False
    headers = argv[2:]
    if headers and headers[0] == "--check":
        check, headers = True, headers[1:]
    out, problems = [], []
    out.append("# myring API reference\n")
    out.append("Generated from the public headers by `scripts/apidoc.py`; the headers are the source.\n")
    for path in headers:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        name = path.split("include/", 1)[-1]
        out.append("\n## `%s`\n" % name)
        for block in paragraphs(lines):
            first = block[0].strip()
            m = DIVIDER.match(first)
            if m and len(block) == 1:
                out.append("\n### %s\n" % m.group(1))
                continue
            if not any("MYR_API" in l for l in block):
                continue
            if block[0].lstrip().startswith("#"):
                continue  # the MYR_API macro itself
            documented = False
            for prose, code in entries(block):
                documented = documented or bool(prose)
                for l in code:
                    if l.startswith("MYR_API") and not documented and "/*" not in l:
                        fn = re.search(r"(\w+)\s*\(", l)
                        problems.append("%s: %s has no comment" % (path, fn.group(1) if fn else l.strip()))
                if prose:
                    out.append("\n" + prose + "\n")
                if code:
                    out.append("\n```c\n" + "\n".join(code) + "\n```\n")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("".join(out))
    for p in problems:
        print("apidoc: warning: " + p, file=sys.stderr)
    if check and problems:
        print("apidoc: %d public function(s) without a comment" % len(problems), file=sys.stderr)
        return 1
    return 0


sys.exit(main(sys.argv))
