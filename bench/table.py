"""Markdown of bench/results.json for the README (targets with pass/fail, growth by size, the baselines):
`python -m bench.table` prints it; `python -m bench.table --readme` writes it into README.md between the
`<!-- bench -->` and `<!-- /bench -->` markers."""
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"
README = RESULTS.parent.parent / "README.md"
START, END = "<!-- bench -->", "<!-- /bench -->"


def targets(results):
    lines = ["| figure | ours | target | pass |", "| --- | ---: | --- | --- |"]
    for key, row in results["targets"].items():
        value = "—" if row["value"] is None else row["value"]
        verdict = {True: "pass", False: "**fail**", None: "—"}[row["pass"]]
        lines.append(f"| `{key}` | {value} | {row['target']} | {verdict} |")
    return lines


def growth(results):
    rows = results.get("growth") or []
    if not rows:
        return []
    lines = ["| listings | nearest 20, ours (ms) | same filter, raw SQL (ms) | ids-only `<->` (ms) | "
             "listing page (ms) |", "| ---: | ---: | ---: | ---: | ---: |"]
    return lines + [f"| {g['listings']:,} | {g['knn_ms']} | {g['knn_raw_same_filter_ms']} | "
                    f"{g['knn_raw_ids_only_ms']} | {g['listing_page_ms']} |" for g in rows]


def baselines(r):
    """The figures beside ours, in words (only those the run measured)."""
    said = []

    def say(keys, text):
        if all(r.get(k) is not None for k in keys):
            said.append(text.format(*(r[k] for k in keys)))

    say(["knn_ms_median", "knn_raw_same_filter_ms", "knn_raw_same_filter_unprepared_ms", "knn_raw_ids_only_ms"],
        "nearest 20 of the 1M listings {} ms against the same filter and columns in hand-written SQL {} ms "
        "(prepared, as ours is; {} ms planned every time) and the ids-only `<->` query {} ms")
    say(["endpoint_nearby_p50_ms", "endpoint_nearby_rps_4_clients", "endpoint_healthz_rps_4_clients"],
        "the nearby search through gunicorn: p50 {} ms at 1 client, {} requests/s at 4 clients against /healthz "
        "{}/s from the same server")
    say(["endpoint_typename_share_of_healthz"], "a `{{ __typename }}` request through the same view and session "
        "serves {} of /healthz's requests/s (a request that does no work: about the most any document can reach)")
    say(["ledger_single_posts_per_s", "ledger_batch_posts_per_s", "ledger_batch_4_writers_posts_per_s"],
        "ledger postings, durable: {}/s one transfer per transaction, {}/s in batches, {}/s from 4 concurrent "
        "batch writers")
    say(["pdf_seconds", "pdf_raw_seconds"], "allocation PDF of 10,000 rows {} s against {} s for a bare LongTable "
        "(CPU seconds)")
    say(["import_seconds", "import_raw_seconds", "import_rows_per_run"],
        "import {} s against {} s for a bare `bulk_create` ({:,} rows a run)")
    say(["optimizer_km", "optimizer_units", "nearest_first_come_km", "nearest_first_come_units"],
        "optimizer {:,} km for {} units against nearest-first-come {:,} km for {} units")
    return "Beside ours in the same run: " + "; ".join(said) + "." if said else ""


def readme_block(r):
    machine = r.get("machine", {})
    load = (r.get("load_average_at_start") or ["?"])[0]
    head = (f"`make bench` on commit `{r.get('git_commit')}` ({r.get('measured_at')}, {r.get('knn_points', 0):,} "
            f"listings, {machine.get('nproc')} cores, load average {load} at the start, "
            f"durable commits) took {r.get('total_seconds')} s; each figure is the median of interleaved rounds "
            "beside its baseline (`bench/results.json`, notes included):")
    body = [head, "", *targets(r), "", *growth(r), "", baselines(r), "",
            "Growth, the national plan and what is not met: `docs/scale.md`."]
    return "\n".join(body)


def write_readme(r):
    text = README.read_text(encoding="utf-8")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text(f"{before}{START}\n{readme_block(r)}\n{END}{after}", encoding="utf-8")


if __name__ == "__main__":
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    if "--readme" in sys.argv:
        write_readme(results)
    else:
        print(readme_block(results))
