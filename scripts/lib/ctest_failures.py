#!/usr/bin/env python3
"""Prints each test a CTest run failed, with the lines of its output that say why.

    python3 scripts/lib/ctest_failures.py BUILD/Testing/Temporary

Reads LastTestsFailed.log (the failed tests) and LastTest.log (every test's
output). For each failed test: its name, then at most 12 lines of its output
that carry a verdict (GoogleTest's failure lines, sanitizer reports, CTest's
timeout). scripts/test.sh keeps this for scripts/earlier-stages.sh. Exits 1
when there is no failure list to read.
"""
import re
import sys
from pathlib import Path

# A GoogleTest failure ("file:line: Failure" and the lines explaining it), a
# sanitizer report, an uncaught error's message, or a script test's FAIL or
# error: line (deploy checks, scripts/lib/common.sh's die).
FAILURE = re.compile(r": Failure$")
VERDICT = re.compile(r"Sanitizer|runtime error|terminate called|what\(\)|Timeout|timed out|^FAIL |^error: ")
FAILURE_CONTEXT = 5
MAX_LINES = 14


def outputs(log_text):
    """Maps test name -> its output lines, from CTest's LastTest.log."""
    result = {}
    name, lines, inside = None, [], False
    for line in log_text.splitlines():
        start = re.match(r'^"(.+)" start time:', line)
        if start:
            name, lines, inside = start.group(1), [], False
        elif name and line.startswith("Output:"):
            inside = True
        elif name and re.match(r'^"(.+)" end time:', line):
            result[name] = lines
            name, inside = None, False
        elif inside:
            lines.append(line)
    return result


def verdict_lines(lines):
    """The failure lines of one test's output, each failure with its explanation."""
    picked, until = [], -1
    for i, line in enumerate(lines):
        if FAILURE.search(line):
            until = i + FAILURE_CONTEXT
        elif line.startswith("[  ") or not line.strip():  # GoogleTest's own summary lines
            until = -1
        if i <= until or VERDICT.search(line):
            picked.append(line)
    return picked


def main():
    temporary = Path(sys.argv[1])
    failed_log = temporary / "LastTestsFailed.log"
    if not failed_log.exists():
        print(f"no {failed_log}", file=sys.stderr)
        return 1
    log = temporary / "LastTest.log"
    by_name = outputs(log.read_text(errors="replace")) if log.exists() else {}
    for entry in failed_log.read_text(errors="replace").splitlines():
        name = entry.split(":", 1)[-1]
        print(f"{name}")
        verdicts = verdict_lines(by_name.get(name, []))
        for line in verdicts[:MAX_LINES]:
            print(f"    {line[:300]}")
        if len(verdicts) > MAX_LINES:
            print(f"    ... {len(verdicts) - MAX_LINES} more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
