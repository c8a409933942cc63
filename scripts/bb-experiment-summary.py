#!/usr/bin/env python3
"""Summarise scripts/bb-experiment.sh: one row per (method, density), mean and standard deviation
over seeds of val voxel F1, PR-AUC and object F1, with the compacted model's live units, FLOPs and
inference time (relative to the uncompacted model timed in the same run; FLOPs relative to the
dense-channel count of the uncompacted model, and over kept slabs only) and the last refresh's
density, coding entropy and mean |correlation|. Writes RUNS/summary.md and RUNS/summary.json.

    python3 scripts/bb-experiment-summary.py RUNS_DIR
"""
import json
import os
import re
import statistics
import sys


def last_refresh(log_path):
    last = None
    with open(log_path) as log:
        for line in log:
            record = json.loads(line)
            if record.get("pruning"):
                last = record["pruning"]
    return last


def main(runs):
    rows = {}
    for name in sorted(os.listdir(runs)):
        match = re.fullmatch(r"(.+)-([0-9.]+)-seed(\d+)", name)
        directory = os.path.join(runs, name)
        if not match or not os.path.exists(os.path.join(directory, "eval.json")):
            continue
        method, density, seed = match.group(1), float(match.group(2)), int(match.group(3))
        volume = json.load(open(os.path.join(directory, "eval.json")))["runs"][0]["volumes"][0]
        compaction = json.load(open(os.path.join(directory, "compaction.json")))
        refresh = last_refresh(os.path.join(directory, "log.jsonl")) or {}
        state = json.load(open(os.path.join(directory, "best", "training_state.json")))
        rows.setdefault((method, density), []).append({
            "seed": seed,
            "f1": volume["voxel"]["f1"],
            "pr_auc": volume["voxel"]["curve"]["averagePrecision"],
            "object_f1": (volume.get("objects") or {}).get("f1"),
            "threshold": float(state["metadata"]["best_threshold"]),
            "best_step": state["step"],
            "density": refresh.get("density", 1.0),
            "entropy": refresh.get("entropy"),
            "correlation": refresh.get("meanAbsoluteCorrelation"),
            "units": compaction["report"]["unitsAfter"],
            "units_before": compaction["report"]["unitsBefore"],
            "flops": compaction["flopsAfter"] / compaction["flopsBefore"],
            "slab_flops": compaction["keptSlabFLOPsAfter"] / compaction["flopsBefore"],
            "speedup": (compaction["millisecondsBefore"] / compaction["millisecondsAfter"]
                        if compaction.get("millisecondsAfter") else None),
        })

    def stat(values):
        values = [v for v in values if v is not None]
        if not values:
            return "-"
        if len(values) == 1:
            return f"{values[0]:.3f}"
        return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"

    keys = ["f1", "pr_auc", "object_f1", "density", "units", "flops", "slab_flops", "speedup", "entropy", "correlation"]
    header = ["method", "target density", "seeds", "voxel F1", "PR-AUC", "object F1", "density", "live units",
              "FLOPs (rel.)", "kept-slab FLOPs (rel.)", "speed-up", "entropy (nats)", "mean abs corr"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    summary = []
    for (method, density), runs_ in sorted(rows.items(), key=lambda item: (item[0][0] != "dense", -item[0][1], item[0][0])):
        lines.append("| " + " | ".join([method, f"{density:g}", str(len(runs_))] + [stat([r[k] for r in runs_]) for k in keys]) + " |")
        summary.append({"method": method, "targetDensity": density, "runs": runs_})
    floor = os.path.join(runs, "darkness", "eval.json")
    if os.path.exists(floor):
        volume = json.load(open(floor))["runs"][0]["volumes"][0]
        values = [volume["voxel"]["f1"], volume["voxel"]["curve"]["averagePrecision"], (volume.get("objects") or {}).get("f1")]
        lines.insert(2, "| darkness floor | - | - | " + " | ".join(stat([v]) for v in values) + " |" + " - |" * (len(keys) - 3))
    text = "# Budgeted Broadcast on VNC synapses (val.h5; mean ± sd over seeds)\n\n" + "\n".join(lines) + "\n"
    open(os.path.join(runs, "summary.md"), "w").write(text)
    json.dump(summary, open(os.path.join(runs, "summary.json"), "w"), indent=1)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/vnc-synapse-bb")
