"""Checks that the Python packages of infra/requirements.txt are installed
at their pinned versions (make run and make test call it first). Prints
one line saying what to run and exits 1 when one is missing or at another
version; prints nothing and exits 0 otherwise. Standard library only."""

import importlib.metadata
import re
import sys


def main(path):
    wrong = []
    with open(path) as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            m = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;]+)", line)
            if not m:
                wrong.append(f"{line!r} is not name==version")
                continue
            name, want = m.group(1), m.group(3)
            try:
                got = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                wrong.append(f"{name} missing")
                continue
            if got != want:
                wrong.append(f"{name} {got}, want {want}")
    if wrong:
        print(f"Python packages not as pinned ({'; '.join(wrong)}): run "
              f"{sys.executable} -m pip install -r {path}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/requirements.txt"))
