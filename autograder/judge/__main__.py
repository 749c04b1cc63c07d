"""``python -m autograder.judge EVIDENCE_DIR CELLS_JSON``: print ``{grade_id: [points, message]}``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from autograder.judge.cells import judge


def main(argv: list[str] | None = None) -> int:
    """Judge one evidence folder with the cells in CELLS_JSON; the result is one JSON object on stdout."""
    evidence_dir, cells_file = (Path(a) for a in (argv or sys.argv[1:])[:2])
    results = judge(evidence_dir, json.loads(cells_file.read_text()))
    sys.stdout.write(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
