#!/usr/bin/env python3
"""Every test a document cites must exist.

docs/*.md and README.md name the tests that prove a guarantee as
`Suite.Test` (GoogleTest's own spelling, in backticks; `Pre{A,B}Post` stands
for PreAPost and PreBPost). A citation that names no test in tests/ proves
nothing, so this fails listing each one with its file and line.

Usage: check_test_names.py REPO_ROOT
"""
import pathlib
import re
import sys

# Placeholders the docs use to explain the naming itself.
PLACEHOLDERS = {"Suite.Test"}
CITATION = re.compile(r"`([A-Z][A-Za-z0-9]*\.[A-Z][A-Za-z0-9_{},]*)`")
DEFINITION = re.compile(r"\bTEST(?:_F|_P)?\s*\(\s*([A-Za-z0-9_]+)\s*,\s*([A-Za-z0-9_]+)\s*\)")
# Tests registered with CMake's add_test(NAME Suite.Test ...) count too.
CTEST_NAME = re.compile(r"add_test\s*\(\s*NAME\s+([A-Za-z0-9_]+\.[A-Za-z0-9_]+)")


def expand(name):
    """`Pre{A,B}Post` -> [PreAPost, PreBPost] (one brace group)."""
    m = re.search(r"\{([^}]*)\}", name)
    if not m:
        return [name]
    return [name[: m.start()] + part + name[m.end():] for part in m.group(1).split(",")]


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    known = set()
    sources = list((root / "tests").rglob("*.cpp")) + list((root / "tests").rglob("CMakeLists.txt"))
    for path in sources:
        text = path.read_text(errors="replace")
        known.update(f"{s}.{t}" for s, t in DEFINITION.findall(text))
        known.update(CTEST_NAME.findall(text))
    if not known:
        print(f"check_test_names: no test definitions found under {root / 'tests'}: nothing to check against")
        return 1

    docs = sorted((root / "docs").glob("*.md")) + [root / "README.md"]
    cited = 0
    missing = []
    for doc in docs:
        for lineno, line in enumerate(doc.read_text(errors="replace").splitlines(), 1):
            for raw in CITATION.findall(line):
                if raw in PLACEHOLDERS:
                    continue
                for name in expand(raw):
                    cited += 1
                    if name not in known:
                        missing.append(f"{doc.relative_to(root)}:{lineno}: {name}")
    if cited == 0:
        print("check_test_names: the documents cite no test at all: nothing was checked")
        return 1
    if missing:
        print(f"check_test_names: {len(missing)} of {cited} cited tests do not exist in tests/:")
        print("\n".join("  " + m for m in missing))
        return 1
    print(f"check_test_names: all {cited} cited tests exist ({len(known)} tests defined)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
