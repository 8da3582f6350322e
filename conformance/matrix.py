#!/usr/bin/env python3
"""Joins the suites' results (results/*.jsonl) with the catalogue, prints the
matrix (method x SDK x case) and writes RESULTS.md. Exit status 1 if any cell that
should have run failed or has no result, or if a result matches no catalogue cell.

usage: matrix.py RESULTS_DIR OUT_MD
"""

import datetime
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalogue  # noqa: E402

PASS, FAIL, NOT_OFFERED, MISSING = "pass", "FAIL", "not offered", "FAIL (no result)"


def load(results_dir):
    cells = {}
    for path in sorted(glob.glob(os.path.join(results_dir, "*.jsonl"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line)
                cells.setdefault((r["sdk"], r["method"], r["case"]), []).append(r)
    return cells


def status(results, sdk, method, case):
    reason = catalogue.not_offered(sdk, method, case)
    got = results.get((sdk, method, case))
    if reason is not None:
        if got:
            return FAIL, f"ran although catalogued as not offered ({reason})"
        return NOT_OFFERED, reason
    if not got:
        return MISSING, "no test reported this cell"
    failed = [r for r in got if r["outcome"] != "pass"]
    if failed:
        return FAIL, "; ".join(f"{r['test']}: {r['detail']}" for r in failed)
    return PASS, ""


def main():
    results_dir, out_md = sys.argv[1], sys.argv[2]
    results = load(results_dir)
    versions = {}
    vpath = os.path.join(results_dir, "versions.json")
    if os.path.exists(vpath):
        with open(vpath) as f:
            versions = json.load(f)

    seen = set()
    counts = {PASS: 0, FAIL: 0, NOT_OFFERED: 0}
    failures, reasons = [], {}
    md = []
    term = []

    def record(sdk, method, case):
        seen.add((sdk, method, case))
        st, detail = status(results, sdk, method, case)
        key = FAIL if st in (FAIL, MISSING) else st
        counts[key] += 1
        if key == FAIL:
            failures.append((sdk, method, case, st, detail))
        if st == NOT_OFFERED:
            n = reasons.setdefault(detail, len(reasons) + 1)
            return st, f"not offered [{n}]"
        return st, st

    by_method = {}
    for m, case, desc in catalogue.rows():
        by_method.setdefault(m, []).append((case, desc))
    for m in catalogue.METHODS:
        md.append(f"\n### admin.users.session.{m}\n")
        _table_body(md, term, m, by_method[m], catalogue.SDKS, record, f"admin.users.session.{m}")
    md.append("\n### Wire level\n")
    _table_body(md, term, "(wire)", catalogue.WIRE, catalogue.WIRE_COLUMNS, record, "wire level")
    md.append("\n### Audit Logs API (`/audit/v1/`)\n")
    _table_body(md, term, "(audit)", catalogue.AUDIT, catalogue.AUDIT_COLUMNS, record, "audit logs API")

    extra = sorted(k for k in results if k not in seen)
    for sdk, method, case in extra:
        counts[FAIL] += 1
        failures.append((sdk, method, case, FAIL, "result for a cell the catalogue does not list"))

    total = counts[PASS] + counts[FAIL]
    summary = f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts[NOT_OFFERED]} not offered by the SDK"
    head = [
        "# Conformance results",
        "",
        "The official Slack SDKs, unchanged, against the slack-sessions emulator. "
        "Written by `conformance/run`; do not edit by hand.",
        "",
        f"- run: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
    ]
    for k, v in versions.items():
        head.append(f"- {k}: {v}")
    head += ["", f"**{summary}** ({total} cells run).", ""]
    head.append("Cells: `pass`, `FAIL`, or `not offered [n]` where the SDK cannot express the case "
                "(reasons below the tables).")
    out = head + md
    out.append("\n### Not offered: reasons\n")
    for reason, n in reasons.items():
        out.append(f"{n}. {reason}")
    if failures:
        out.append("\n### Failures\n")
        for sdk, method, case, st, detail in failures:
            out.append(f"- {sdk} / {method} / {case}: {st}: {detail[:1500]}")
    with open(out_md, "w") as f:
        f.write("\n".join(out) + "\n")

    print("\n".join(term))
    print("\nnot offered:")
    for reason, n in reasons.items():
        print(f"  [{n}] {reason}")
    if failures:
        print("\nfailures:")
        for sdk, method, case, st, detail in failures:
            print(f"  {sdk} / {method} / {case}: {st}: {detail[:600]}")
    print(f"\nconformance: {summary}")
    print(f"{counts[PASS]} passed, {counts[FAIL]} failed")
    return 1 if counts[FAIL] or total == 0 else 0


def _table_body(md, term, method, rows, sdks, record, title):
    md.append("| case | " + " | ".join(catalogue.SDK_TITLES[s] for s in sdks) + " |")
    md.append("|---|" + "---|" * len(sdks))
    width = max(len(c) for c, _ in rows) + 2
    term.append(f"\n{title}")
    term.append(" " * (width + 2) + "".join(f"{s:<18}" for s in sdks))
    for case, desc in rows:
        cells = [record(s, method, case) for s in sdks]
        md.append(f"| `{case}` {desc} | " + " | ".join(c[1] for c in cells) + " |")
        term.append(f"  {case:<{width}}" + "".join(f"{c[1]:<18}" for c in cells))


if __name__ == "__main__":
    sys.exit(main())
