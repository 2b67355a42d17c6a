"""Markdown tables of bench/results.json (targets with pass/fail, growth by size) for the README and
docs/scale.md: `python -m bench.table`."""
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def markdown(results):
    lines = ["| figure | ours | target | pass |", "| --- | ---: | --- | --- |"]
    for key, row in results["targets"].items():
        value = "—" if row["value"] is None else row["value"]
        verdict = {True: "pass", False: "**fail**", None: "—"}[row["pass"]]
        lines.append(f"| `{key}` | {value} | {row['target']} | {verdict} |")
    growth = results.get("growth") or []
    if growth:
        lines += ["", "| listings | nearest 20, ours (ms) | same filter, raw SQL (ms) | ids-only `<->` (ms) | "
                      "listing page (ms) |", "| ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {g['listings']:,} | {g['knn_ms']} | {g['knn_raw_same_filter_ms']} | {g['knn_raw_ids_only_ms']} | "
                  f"{g['listing_page_ms']} |" for g in growth]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(json.loads(RESULTS.read_text(encoding="utf-8"))))
