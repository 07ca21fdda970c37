"""Pages of the appendix and the supplement of a finished study, compiled with the README's recipe.

    .venv/bin/python benchmarks/appendix_pages.py --out figures/mystudy [--out other/figures ...]

Each output folder (a study run through ``appendix``) is linked as ``figures/`` beside the README's
``paper.tex`` and ``supplement.tex`` in a temporary folder, each compiled with its two ``lualatex``
passes as the README states; prints a table and writes ``benchmarks/results/appendix_pages.csv``. The goal
(issue 23): the main appendix of an 800-article study under 30 pages.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def recipe() -> tuple[list[str], list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("In a paper in the folder that holds") : text.index("## Writing your own codebook")]
    return re.findall(r"```latex\n(.*?)```", section, flags=re.S), re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def measure(out: Path) -> list[dict]:
    (paper, supplement), (commands,) = recipe()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "figures").symlink_to(out.resolve())
        (folder / "paper.tex").write_text(paper, encoding="utf-8")
        (folder / "supplement.tex").write_text(supplement, encoding="utf-8")
        for name in ("paper", "supplement"):
            if name == "supplement" and not (out / "supplement.tex").is_file():
                continue  # an appendix written before the supplement existed: one document only
            start = time.perf_counter()
            for line in (c for c in commands.strip().splitlines() if f"{name}.tex" in c):
                subprocess.run(line, shell=True, cwd=folder, stdin=subprocess.DEVNULL, capture_output=True, check=True)
            log = (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")
            pages = int(re.search(r"Output written on \S+ \((\d+) pages?", log).group(1))
            rows.append(
                {
                    "output": str(out),
                    "document": name,
                    "pages": pages,
                    "overfull": log.count("Overfull \\hbox"),
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", action="append", required=True, help="a study's output folder (after appendix)")
    args = parser.parse_args()
    rows = [row for out in args.out for row in measure(Path(out))]
    print(f"{'output':<40} {'document':<11} {'pages':>5} {'overfull':>8} {'seconds':>7}")
    for r in rows:
        print(f"{r['output']:<40} {r['document']:<11} {r['pages']:>5} {r['overfull']:>8} {r['seconds']:>7}")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    lines = ["output,document,pages,overfull,seconds"] + [
        f"{r['output']},{r['document']},{r['pages']},{r['overfull']},{r['seconds']}" for r in rows
    ]
    (results / "appendix_pages.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
