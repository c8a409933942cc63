#!/usr/bin/env python3
"""Summarise scripts/bb-experiment.sh into one comparison report.

One row per (method, density): mean and standard deviation over seeds of val voxel F1, PR-AUC
and object F1, the compacted model's live channels (all layers, upsampling included), FLOPs (relative to the dense-channel network,
also over kept slabs only) and measured inference speed-up against the dense model of the same
seed (`emflow bench models`, RUNS/inference-seedN.json), and the last refresh's density, coding
entropy and mean |correlation|. The blurred-darkness floor (RUNS/darkness-floor) is the first
row; paired differences (same seed) of BB against magnitude pruning follow the table. Writes
RUNS/summary.md, RUNS/summary.json and RUNS/comparison.html (table, F1 and PR-AUC against
density with one standard deviation as bars, speed-ups), and the three charts as RUNS/chart-*.svg.

    python3 scripts/bb-experiment-summary.py RUNS_DIR
"""
import html
import json
import os
import re
import statistics
import sys

METRICS = [("f1", "voxel F1"), ("pr_auc", "PR-AUC"), ("object_f1", "object F1")]
COLORS = {"dense": "#000000", "bb-in": "#0072B2", "bb-out": "#56B4E9", "bb-both": "#D55E00",
          "magnitude": "#009E73", "random": "#CC79A7", "floor": "#999933"}


def last_refresh(log_path):
    last = None
    with open(log_path) as log:
        for line in log:
            record = json.loads(line)
            if record.get("pruning"):
                last = record["pruning"]
    return last


def evaluation(path):
    volume = json.load(open(path))["runs"][0]["volumes"][0]
    return {"f1": volume["voxel"]["f1"], "pr_auc": volume["voxel"]["curve"]["averagePrecision"],
            "object_f1": (volume.get("objects") or {}).get("f1"), "val_best_f1": volume["voxel"]["curve"]["bestF1"]}


def inference_speedups(runs):
    """Checkpoint directory name -> (milliseconds, speed-up against the first model of its run)."""
    speed = {}
    for name in os.listdir(runs):
        if re.fullmatch(r"inference-seed\d+\.json", name):
            report = json.load(open(os.path.join(runs, name)))
            for model in report["models"]:
                run = os.path.basename(os.path.dirname(os.path.normpath(model["checkpoint"])))
                speed[run] = (model["milliseconds"], model["speedup"])
    return speed


def collect(runs):
    speed = inference_speedups(runs)
    rows = {}
    for name in sorted(os.listdir(runs)):
        match = re.fullmatch(r"(.+)-([0-9.]+)-seed(\d+)", name)
        directory = os.path.join(runs, name)
        if not match or not os.path.exists(os.path.join(directory, "eval.json")):
            continue
        method, density, seed = match.group(1), float(match.group(2)), int(match.group(3))
        compaction = json.load(open(os.path.join(directory, "compaction.json")))
        refresh = last_refresh(os.path.join(directory, "log.jsonl")) or {}
        state = json.load(open(os.path.join(directory, "best", "training_state.json")))
        run = dict(evaluation(os.path.join(directory, "eval.json")), seed=seed, name=name,
                   threshold=float(state["metadata"]["best_threshold"]), best_step=state["step"],
                   density=refresh.get("density", 1.0), entropy=refresh.get("entropy"),
                   correlation=refresh.get("meanAbsoluteCorrelation"),
                   channels=sum(layer["after"] for layer in compaction["report"]["layers"]),
                   channels_before=sum(layer["before"] for layer in compaction["report"]["layers"]),
                   flops=compaction["flopsAfter"] / compaction["flopsBefore"],
                   slab_flops=compaction["keptSlabFLOPsAfter"] / compaction["flopsBefore"],
                   milliseconds=speed.get(name, (None, None))[0], speedup=speed.get(name, (None, None))[1])
        rows.setdefault((method, density), []).append(run)
    return rows


def mean_sd(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def fmt(values, digits=3):
    mean, sd = mean_sd(values)
    if mean is None:
        return "-"
    return f"{mean:.{digits}f}" if len([v for v in values if v is not None]) == 1 else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def paired(rows, method, baseline, key):
    """Per density: the differences method - baseline over the seeds both have."""
    result = {}
    for (m, density), runs_ in rows.items():
        if m != method or (baseline, density) not in rows:
            continue
        base = {r["seed"]: r[key] for r in rows[(baseline, density)]}
        diffs = [r[key] - base[r["seed"]] for r in runs_ if r["seed"] in base]
        if diffs:
            result[density] = diffs
    return result


def chart(rows, key, label, floor, bounded=True):
    """An SVG line chart of `key` against target density, one line per method, bars of one sd."""
    width, height, left, right, top, bottom = 600, 380, 58, 190, 30, 48
    values = [r[key] for runs_ in rows.values() for r in runs_ if r[key] is not None]
    if floor and floor.get(key) is not None:
        values.append(floor[key])
    if not values:
        return ""
    low, high = min(values) - 0.05, max(values) + 0.05
    if bounded:
        low, high = max(0.0, low), min(1.0, high)

    def px(x):
        return left + (x - 0.0) / 1.05 * (width - left - right)

    def py(y):
        return top + (high - y) / (high - low) * (height - top - bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{html.escape(label)} against density">',
             f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" fill="none" stroke="#98a2b3"/>']
    for i in range(6):
        y = low + (high - low) * i / 5
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#e4e7ec"/>'
                     f'<text x="{left - 6}" y="{py(y) + 4:.1f}" text-anchor="end" font-size="11" fill="#667085">{y:.2f}</text>')
    for x in (0.1, 0.3, 0.5, 1.0):
        parts.append(f'<text x="{px(x):.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" fill="#667085">{x:g}</text>')
    parts.append(f'<text x="{(left + width - right) / 2:.0f}" y="{height - 8}" text-anchor="middle" font-size="12.5">'
                 'kept slabs (target density)</text>')
    parts.append(f'<text x="14" y="{(top + height - bottom) / 2:.0f}" text-anchor="middle" font-size="12.5" '
                 f'transform="rotate(-90 14 {(top + height - bottom) / 2:.0f})">{html.escape(label)}</text>')
    legend = []
    methods = sorted({m for m, _ in rows}, key=lambda m: list(COLORS).index(m) if m in COLORS else 99)
    for method in methods:
        color = COLORS.get(method, "#666666")
        points = []
        for (m, density), runs_ in sorted(rows.items()):
            if m != method:
                continue
            mean, sd = mean_sd([r[key] for r in runs_])
            if mean is None:
                continue
            points.append((density, mean))
            parts.append(f'<line x1="{px(density):.1f}" x2="{px(density):.1f}" y1="{py(mean - sd):.1f}" y2="{py(mean + sd):.1f}" '
                         f'stroke="{color}" stroke-width="1.5"/>')
            parts.append(f'<circle cx="{px(density):.1f}" cy="{py(mean):.1f}" r="3.5" fill="{color}"/>')
        if method == "dense" and points:
            y = points[0][1]
            parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="{color}" stroke-dasharray="6 4"/>')
        elif len(points) > 1:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                         + " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points) + '"/>')
        legend.append((method + (" (dashed)" if method == "dense" else ""), color))
    if floor and floor.get(key) is not None:
        y = floor[key]
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="{COLORS["floor"]}" '
                     'stroke-width="2" stroke-dasharray="2 3"/>')
        legend.append(("darkness floor (dotted)", COLORS["floor"]))
    for i, (name, color) in enumerate(legend):
        y = top + 14 + 19 * i
        parts.append(f'<line x1="{width - right + 10}" x2="{width - right + 30}" y1="{y}" y2="{y}" stroke="{color}" stroke-width="3"/>'
                     f'<text x="{width - right + 36}" y="{y + 4}" font-size="12">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def layer_densities(runs, rows, density, seed):
    """Markdown-free table rows: layer name, then its kept-slab density under each method (one seed)."""
    methods = [m for m in ("bb-in", "bb-out", "bb-both", "magnitude", "random") if (m, density) in rows]
    per_method = {}
    for method in methods:
        refresh = last_refresh(os.path.join(runs, f"{method}-{density:g}-seed{seed}", "log.jsonl")) or {}
        per_method[method] = {layer["name"]: layer for layer in refresh.get("layers", [])}
    names = [name for name in next(iter(per_method.values()), {})]
    table = [["layer"] + methods]
    for name in names:
        table.append([name] + [f'{per_method[m][name]["density"]:.2f} ({per_method[m][name]["liveUnits"]}/{per_method[m][name]["units"]})'
                               if name in per_method[m] else "-" for m in methods])
    return table


def html_table(table):
    head = "".join("<th>" + html.escape(h) + "</th>" for h in table[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table[1:])
    return f"<table><tr>{head}</tr>{body}</table>"


def main(runs):
    rows = collect(runs)
    floor_path = os.path.join(runs, "darkness-floor", "eval.json")
    floor = evaluation(floor_path) if os.path.exists(floor_path) else None
    chosen_path = os.path.join(runs, "darkness-floor", "chosen.json")
    chosen = json.load(open(chosen_path)) if os.path.exists(chosen_path) else {}

    columns = [("f1", "voxel F1", 3), ("pr_auc", "PR-AUC", 3), ("object_f1", "object F1", 3), ("density", "density", 3),
               ("channels", "live channels", 0), ("flops", "FLOPs (rel.)", 3), ("slab_flops", "kept-slab FLOPs (rel.)", 3),
               ("speedup", "speed-up", 2), ("entropy", "entropy (nats)", 1), ("correlation", "mean abs corr", 3)]
    header = ["method", "target density", "seeds"] + [title for _, title, _ in columns]
    table = [header]
    if floor:
        name = "darkness floor" + (f" (sigma {chosen['sigma']:g}, threshold {chosen['threshold']:.3f})" if chosen else "")
        table.append([name, "-", "-"] + [fmt([floor[k]]) for k, _, _ in columns[:3]] + ["-"] * (len(columns) - 3))
    order = sorted(rows, key=lambda item: (item[0] != "dense", -item[1], list(COLORS).index(item[0]) if item[0] in COLORS else 99))
    for method, density in order:
        runs_ = rows[(method, density)]
        table.append([method, f"{density:g}", str(len(runs_))] + [fmt([r[k] for r in runs_], d) for k, _, d in columns])

    comparisons = []
    for method in ("bb-both", "bb-in", "bb-out"):
        for key, label in METRICS[:2]:
            for density, diffs in sorted(paired(rows, method, "magnitude", key).items(), reverse=True):
                mean, sd = mean_sd(diffs)
                wins = sum(d > 0 for d in diffs)
                comparisons.append(f"{method} - magnitude at density {density:g}, {label}: {mean:+.3f} ± {sd:.3f} "
                                   f"(BB higher in {wins} of {len(diffs)} seeds)")

    markdown = ["# Budgeted Broadcast on VNC synapses (val.h5; mean ± sd over seeds)", "",
                "| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    markdown += ["| " + " | ".join(row) + " |" for row in table[1:]]
    markdown += ["", "Paired differences (same seed, so the same initial weights and batches):", ""]
    markdown += ["- " + line for line in comparisons]
    text = "\n".join(markdown) + "\n"
    open(os.path.join(runs, "summary.md"), "w").write(text)
    json.dump({"floor": dict(floor or {}, **chosen), "settings": [{"method": m, "targetDensity": d, "runs": rows[(m, d)]}
                                                                  for m, d in order], "pairedAgainstMagnitude": comparisons},
              open(os.path.join(runs, "summary.json"), "w"), indent=1)

    seed = min((r["seed"] for runs_ in rows.values() for r in runs_), default=1)
    layers = layer_densities(runs, rows, 0.3, seed)
    balance = "".join(f'<figure><img src="{m}-0.3-seed{seed}/balance.svg" alt="balance of {m}" width="420">'
                      f"<figcaption>{m}, density 0.3, seed {seed}</figcaption></figure>"
                      for m in ("bb-in", "bb-out", "bb-both") if os.path.exists(os.path.join(runs, f"{m}-0.3-seed{seed}", "balance.svg")))
    links = " ".join(f'<a href="{html.escape(r["name"])}/report/report.html">{html.escape(r["name"])}</a>'
                     for key in order for r in rows[key])
    charts = {key: chart(rows, key, label, floor if bounded else None, bounded=bounded)
              for key, label, bounded in (("f1", "voxel F1 on val.h5", True), ("pr_auc", "PR-AUC on val.h5", True),
                                          ("speedup", "inference speed-up against dense", False))}
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Budgeted Broadcast on VNC synapses</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#1d2939}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #d0d5dd;padding:3px 7px;text-align:right}}td:first-child,th:first-child{{text-align:left}}
svg text{{font-family:system-ui,sans-serif;fill:#1d2939}}.charts{{display:flex;flex-wrap:wrap;gap:1em}}</style></head><body>
<h1>Budgeted Broadcast on VNC synapses</h1>
<p>Trained on train.h5 x 0:768; checkpoint and threshold chosen on train.h5 x 768:1024 (held back); evaluated once on
val.h5. Mean ± standard deviation over seeds. The darkness floor's sigma and threshold were chosen on the same held-back
columns. Speed-up: inference of the compacted model against the dense model of the same seed, measured in one run.</p>
{html_table(table)}
<h2>Against density</h2><div class="charts">{charts["f1"]}{charts["pr_auc"]}
{charts["speedup"]}</div>
<h2>BB against magnitude pruning, paired by seed</h2><ul>{"".join(f"<li>{html.escape(c)}</li>" for c in comparisons)}</ul>
<h2>Where the slabs go (density 0.3, seed {seed})</h2>
<p>Kept-slab density per layer at the last refresh, with live units / units in brackets.</p>{html_table(layers)}
<h2>The balance behind BB (log((1 - a) / a) against degree k, with the fitted beta)</h2><div class="charts">{balance}</div>
<h2>Runs</h2><p>{links}</p></body></html>
"""
    open(os.path.join(runs, "comparison.html"), "w").write(page)
    # The charts as files of their own too, for results pages that cannot hold inline SVG.
    for key, svg in charts.items():
        svg = svg.replace(">", "><style>text{font-family:sans-serif;fill:#1d2939}</style>", 1)
        open(os.path.join(runs, f"chart-{key.replace('_', '-')}.svg"), "w").write(svg)
    print(text)
    print(f"report: {os.path.join(runs, 'comparison.html')}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/vnc-synapse-bb")
