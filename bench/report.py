#!/usr/bin/python3
"""Turn conv1d_bench's CSV into docs/performance.md and docs/performance.png.

The CSV's 'pass' column tells forward rows from backward_data and
backward_weights rows (a CSV without it is all forward); each pass present
gets its section.

    /usr/bin/python3 bench/report.py --csv build-bench/bench.csv \
        --md docs/performance.md --png docs/performance.png \
        --command "build-bench/bench/conv1d_bench --csv-file build-bench/bench.csv"

Only the standard library and matplotlib (Agg backend) are used.
"""

import argparse
import csv
import datetime
import math
import os
import sys


def fnum(value):
    """A CSV number, or None when the field is empty (method did not run)."""
    if value is None or value.strip() == "":
        return None
    try:
        return float(value)
    except ValueError:
        return None


def cpu_model():
    """'model name' of /proc/cpuinfo, with the family and model numbers (VMs
    often report only a generic name such as 'AMD EPYC')."""
    fields = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    break  # first processor only
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    name = fields.get("model name", "unknown CPU")
    if "cpu family" in fields and "model" in fields:
        zen = zen_generation(fields.get("vendor_id"), fields["cpu family"], fields["model"])
        name += " (family %s, model %s%s)" % (fields["cpu family"], fields["model"], "; " + zen if zen else "")
    return name


def zen_generation(vendor, family, model):
    """The AMD Zen generation of a family/model pair, or '' when unknown."""
    try:
        family, model = int(family), int(model)
    except ValueError:
        return ""
    if vendor != "AuthenticAMD":
        return ""
    if family == 0x17:
        return "Zen 2" if model >= 0x30 else "Zen / Zen+"
    if family == 0x19:  # Genoa 0x10-0x1f, Raphael/Phoenix 0x60-0x7f, Bergamo 0xa0-0xaf
        return "Zen 4" if 0x10 <= model <= 0x1f or 0x60 <= model <= 0x7f or 0xa0 <= model <= 0xaf else "Zen 3"
    if family == 0x1a:
        return "Zen 5"
    return ""


def cpu_flags():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def geomean(values):
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def fmt(value, spec, missing="n/a"):
    return missing if value is None else format(value, spec)


def shape(row):
    text = "b{batch} c{in_channels} L{steps} f{filters} k{kernel}".format(**row)
    if row["stride"] != "1":
        text += " s" + row["stride"]
    if row["dilation"] != "1":
        text += " d" + row["dilation"]
    if row["groups"] != "1":
        text += " g" + row["groups"]
    return text + " {padding} {layout}".format(**row)


def short_plan(plan):
    """conv1d_describe_plan's line without its "conv1d: layer ... ->" preamble."""
    plan = plan or ""
    return plan.split("-> ", 1)[1] if "-> " in plan else plan


def md_escape(text):
    return (text or "").replace("|", "\\|")


def load_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit("report.py: %s has no data rows" % path)
    return rows


def pass_of(row):
    return row.get("pass") or "forward"


def thread_counts(rows):
    seen = []
    for r in rows:
        t = int(r["threads"])
        if t not in seen:
            seen.append(t)
    return seen


PASS_TITLES = {"backward_data": "Backward data", "backward_weights": "Backward weights"}


def contended_row(r):
    return (fnum(r.get("other_cores")) or 0) > 0.1


def detail_table(w, sel, extra):
    """One row per problem: libconv1d's GF/s, the baselines', the ratios, plans and check."""
    header = ["row", "shape", "GFLOP", "libconv1d auto GF/s", "% peak", "oneDNN GF/s", "im2col GF/s",
              "oneDNN / auto", "im2col / auto"]
    header[5:5] = ["%s GF/s" % k for k in extra]
    header += ["libconv1d plan", "oneDNN impl", "check"]
    w("| " + " | ".join(header) + " |")
    w("|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 5) + ["---"] * 3) + "|")
    for r in sel:
        cells = [md_escape(r["name"]) + (" (*)" if contended_row(r) else ""), shape(r), fmt(fnum(r["gflop"]), ".3g"),
                 fmt(fnum(r.get("auto_gflops")), ".1f"), fmt(fnum(r.get("auto_pct_peak")), ".1f")]
        cells += [fmt(fnum(r.get(k + "_gflops")), ".1f") for k in extra]
        cells += [fmt(fnum(r.get("onednn_gflops")), ".1f"), fmt(fnum(r.get("im2col_gflops")), ".1f"),
                  fmt(fnum(r.get("onednn_over_auto")), ".2f"), fmt(fnum(r.get("im2col_over_auto")), ".2f"),
                  md_escape(short_plan(r.get("plan"))), md_escape(r.get("onednn_impl")),
                  md_escape(r.get("check"))]
        w("| " + " | ".join(cells) + " |")
    n_contended = sum(1 for r in sel if contended_row(r))
    if n_contended:
        w("")
        w("(*) %d row%s ran while other processes used more than 0.1 cores (see Warnings): "
          "their numbers are low and noisy." % (n_contended, "" if n_contended == 1 else "s"))


def write_backward(w, rows, threads, args):
    """The Backward section: a summary of the ratios, then one detail table per pass and thread count."""
    data = [r for r in rows if pass_of(r) == "backward_data"]
    weights = [r for r in rows if pass_of(r) == "backward_weights"]
    has = lambda key: any(fnum(r.get(key)) is not None for r in data + weights)  # noqa: E731
    w("## Backward")
    w("")
    w("`conv1d_backward` against oneDNN's `convolution_backward_data` and `convolution_backward_weights`")
    w("primitives (and the im2col baseline run backward), in the same process and run as the forward")
    w("section, on the same suite rows, machine (%s, %d hardware threads) and command (`%s`)."
      % (cpu_model(), os.cpu_count() or 0, args.command))
    w("")
    w("- **Backward data** times `conv1d_backward` with only `dx` requested (`dkernel`, `dbias` NULL) against")
    w("  `convolution_backward_data` (diff_src from diff_dst and the weights).")
    w("- **Backward weights** times it with only `dkernel` and `dbias` requested (`dx` NULL) against")
    w("  `convolution_backward_weights` with `diff_bias`.")
    w("- The layer has a linear activation and no regularizer, so `conv1d_backward` recomputes nothing: both")
    w("  libraries do the same work. GFLOP/s count the forward's FLOPs for each pass (each does as many FMAs).")
    w("- oneDNN: a `forward_training` primitive_desc is the hint of each backward one; weights `any`, activations")
    w("  in the row's own layout; the kernel's reorder into the backward-data primitive's layout and the")
    w("  weight gradient's reorder back to Keras layout run once, outside the timing. im2col: backward weights")
    w("  is dW += col^T * dy per batch item and group (one sgemm) plus a bias pass; backward data is")
    w("  col = dy * W^T (one sgemm) then col2im.")
    w("- Medians and thread control as in the forward; every output (dx; dkernel and dbias) is checked")
    w("  against libconv1d auto's (normwise relative error <= 1e-3), oneDNN's after its reorder to Keras layout.")
    w("- Ratios are time / libconv1d-auto time: **above 1 means libconv1d is faster**. The plan column is the")
    w("  line `CONV1D_VERBOSE` prints for the backward call.")
    n_cont = sum(1 for r in data + weights if contended_row(r))
    if n_cont:
        # auto and a forced algorithm that run the same plan time the same code: their spread is the noise.
        spread = {}
        for r in data + weights:
            t_auto = fnum(r.get("auto_us"))
            for alg in ("direct", "gemm"):
                t = fnum(r.get(alg + "_us"))
                if t_auto and t and short_plan(r.get("plan")).startswith(alg + " "):
                    q = max(t_auto / t, t / t_auto)
                    spread[r["threads"]] = max(spread.get(r["threads"], 1.0), q)
        w("- **Noise:** other processes used more than 0.1 cores during %d of these %d rows. Where auto runs the"
          % (n_cont, len(data + weights)))
        w("  same plan as a forced algorithm, the two times of the same code differ by up to %s: read single"
          % ", ".join("%.1fx at %s thread%s" % (q, t, "" if t == "1" else "s") for t, q in sorted(spread.items())))
        w("  ratios with that in mind, the geometric means and the rows that lose in both thread counts less so.")
    w("")

    # Summary: ratio oneDNN / libconv1d per row, both passes, every thread count.
    w("### oneDNN time / libconv1d time")
    w("")
    cols = [(p, t) for p in ("backward_data", "backward_weights") for t in threads]
    w("| row | shape | " + " | ".join("%s, %dt" % (PASS_TITLES[p].split()[1], t) for p, t in cols) + " |")
    w("|---|---|" + "---:|" * len(cols))
    names = []
    for r in data + weights:
        if r["name"] not in names:
            names.append(r["name"])
    by_key = {(r["name"], pass_of(r), int(r["threads"])): r for r in data + weights}
    for name in names:
        first = next(r for r in data + weights if r["name"] == name)
        cells = [md_escape(name), shape(first)]
        for p, t in cols:
            r = by_key.get((name, p, t))
            q = fnum(r.get("onednn_over_auto")) if r else None
            text = fmt(q, ".2f")
            if q is not None and q < 1:
                text = "**%s**" % text  # libconv1d slower
            if r is not None and contended_row(r):
                text += " (*)"
            cells.append(text)
        w("| " + " | ".join(cells) + " |")
    geo = []
    for p, t in cols:
        sel = [r for r in (data if p == "backward_data" else weights) if int(r["threads"]) == t]
        geo.append(fmt(geomean([fnum(r.get("onednn_over_auto")) for r in sel]), ".2f"))
    w("| geometric mean | | " + " | ".join(geo) + " |")
    w("")
    w("Bold: libconv1d is slower than oneDNN on that row. (*): other processes used more than 0.1 cores.")
    w("")

    summary = []
    extra = [k for k in ("direct", "gemm") if has(k + "_gflops")]
    for p, sel_pass in (("backward_data", data), ("backward_weights", weights)):
        for t in threads:
            sel = [r for r in sel_pass if int(r["threads"]) == t]
            if not sel:
                continue
            w("### %s, %d thread%s" % (PASS_TITLES[p], t, "" if t == 1 else "s"))
            w("")
            detail_table(w, sel, extra)
            g_dnnl = geomean([fnum(r.get("onednn_over_auto")) for r in sel])
            g_i2c = geomean([fnum(r.get("im2col_over_auto")) for r in sel])
            n_dnnl = sum(1 for r in sel if fnum(r.get("onednn_over_auto")))
            n_i2c = sum(1 for r in sel if fnum(r.get("im2col_over_auto")))
            w("")
            w("Geometric mean over rows, %s, %d thread%s: oneDNN time / libconv1d time = **%s** (%d rows); "
              "im2col time / libconv1d time = **%s** (%d rows)."
              % (PASS_TITLES[p].lower(), t, "" if t == 1 else "s", fmt(g_dnnl, ".2f"), n_dnnl, fmt(g_i2c, ".2f"),
                 n_i2c))
            w("")
            summary.append((p, t, g_dnnl, g_i2c))
    return summary


def write_markdown(rows, args):
    first = rows[0]
    all_rows = rows
    rows = [r for r in all_rows if pass_of(r) == "forward"]
    backward = [r for r in all_rows if pass_of(r) != "forward"]
    threads = thread_counts(all_rows)
    flags = cpu_flags()
    isa = "AVX-512" if "avx512f" in flags else ("AVX2" if "avx2" in flags else "no AVX2")
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    has = lambda key: any(fnum(r.get(key)) is not None for r in rows)  # noqa: E731

    out = []
    w = out.append
    cap = args.isa_cap
    w("# Performance%s" % (" with %s only" % cap if cap else ""))
    w("")
    w("libconv1d's forward pass against oneDNN and a plain OpenBLAS im2col+sgemm baseline, all three in one")
    w("process on the same buffers, on the Conv1D workloads of [`bench/suite.csv`](../bench/suite.csv).")
    if cap:
        w("**Both libraries are capped at %s** (`CONV1D_MAX_ISA=%s`, `ONEDNN_MAX_CPU_ISA=%s`) on this %s"
          % (cap, cap.lower(), cap.upper(), isa))
        w("machine: what a CPU without AVX-512 gets. % of peak is against the FMA peak of the machine's widest")
        w("ISA: %s reaches all of it where 512-bit instructions run as two 256-bit halves (Zen 4), so the two"
          % cap)
        w("files compare directly, and half of it on CPUs with full-width 512-bit units (most Intel Xeons).")
        w("The full-ISA run is [performance.md](performance.md).")
    if backward:
        w("The Backward section below does the same for `conv1d_backward` (backward data and backward")
        w("weights, timed apart) against oneDNN's backward primitives, in the same run.")
    if cap:
        w("This file and its chart are generated by `scripts/bench --isa %s`; rerun it to reproduce them."
          % cap.lower())
    else:
        w("This file and `performance.png` are generated by `scripts/bench`; rerun it to reproduce them.")
        w("An AVX2-only run, both libraries capped (`scripts/bench --isa avx2`), is in")
        w("[performance-avx2.md](performance-avx2.md).")
    w("")
    w("## Setup")
    w("")
    w("- Machine: %s, %d hardware threads (`nproc`), %s" % (cpu_model(), os.cpu_count() or 0, isa))
    w("- Date: %s" % now)
    w("- libconv1d %s; %s; %s" % (first.get("libconv1d_version", "?"), first.get("onednn_version", "?"),
                                   first.get("openblas", "?")))
    peaks = []
    for t in threads:
        p = next((fnum(r["peak_gflops"]) for r in all_rows if int(r["threads"]) == t), None)
        peaks.append("%s GFLOP/s with %d thread%s" % (fmt(p, ".1f"), t, "" if t == 1 else "s"))
    w("- FMA peak (%s register-resident loop, measured at start-up: the best of several tries, as the host's "
      "load only lowers it; one thread at least half the two-thread peak): %s"
      % (first.get("fma_isa", "?"), "; ".join(peaks)))
    if any(r.get("peak_contended") == "1" for r in all_rows):
        w("  **(other processes ran while the peak was measured: it is understated and % peak overstated)**")
    load = fnum(first.get("load_at_start"))
    if load is not None:
        w("- 1-minute load average when the run started: %.2f" % load)
    if any(r.get("other_cores") not in (None, "") for r in all_rows):
        n_cont = sum(1 for r in all_rows if contended_row(r))
        w("- Rows measured while other processes used more than 0.1 cores (from `/proc/stat`): %d of %d%s"
          % (n_cont, len(all_rows), " (marked (*) below; rerun on an idle machine)" if n_cont else ""))
    w("- Command: `%s`" % args.command)
    if args.script:
        w("  (run by `%s`)" % args.script)
    w("")
    w("To reproduce: `scripts/bench` (installs what is missing, builds `build-bench/`, runs, rewrites this")
    w("file). The bench alone: configure with `-DCONV1D_BUILD_BENCH=ON`, build the `conv1d_bench` target and")
    w("run `conv1d_bench --help` for its options (`--rows`, `--threads`, `--pass`, `--algorithms`, `--problem`,")
    w("`--rounds`, `--csv`).")
    w("")
    summary = []
    if rows:
        w("Method: each time is the median per-call time of at least 5 samples spanning at least `--min-time`")
        w("seconds, after warm-up; with `--rounds N` each method of a row is timed N times in turn (all methods,")
        w("then all again) and keeps its fastest median, so a burst of load from outside the machine's view")
        w("has to hit the same method every round to skew a ratio.")
        w("Weights are converted once outside the timing (libconv1d `conv1d_set_weights`,")
        w("oneDNN reorder to the layout its primitive asks for), all buffers are 64-byte aligned and touched")
        w("before timing. GFLOP/s counts 2 * batch * out_steps * filters * (in_channels / groups) * kernel.")
        w("oneDNN gets the activations in the row's own layout (`nwc` or `ncw`, like libconv1d), weights `any`,")
        w("`forward_inference`; its threads are set with `omp_set_num_threads`, OpenBLAS's with")
        w("`openblas_set_num_threads`, libconv1d's with `CONV1D_PARAM_NUM_THREADS`.")
        w("Ratios are time / libconv1d-auto time: **above 1 means libconv1d is faster**.")
        w("Every output is checked against libconv1d auto's (normwise relative error <= 1e-3).")
        w("")

    for t in threads if rows else []:
        sel = [r for r in rows if int(r["threads"]) == t]
        w("## Forward, %d thread%s" % (t, "" if t == 1 else "s"))
        w("")
        detail_table(w, sel, [k for k in ("direct", "gemm") if has(k + "_gflops")])
        g_dnnl = geomean([fnum(r.get("onednn_over_auto")) for r in sel])
        g_i2c = geomean([fnum(r.get("im2col_over_auto")) for r in sel])
        n_dnnl = sum(1 for r in sel if fnum(r.get("onednn_over_auto")))
        n_i2c = sum(1 for r in sel if fnum(r.get("im2col_over_auto")))
        w("")
        w("Geometric mean over rows, %d thread%s: oneDNN time / libconv1d time = **%s** (%d rows); "
          "im2col time / libconv1d time = **%s** (%d rows)."
          % (t, "" if t == 1 else "s", fmt(g_dnnl, ".2f"), n_dnnl, fmt(g_i2c, ".2f"), n_i2c))
        w("")
        summary.append(("forward", t, g_dnnl, g_i2c))

    if backward:
        summary += write_backward(w, backward, threads, args)

    bad = [r for r in all_rows if r.get("check") not in ("ok", "n/a", None, "")]
    notes = [r for r in all_rows if r.get("notes")]
    # auto runs the plan it picks, so a forced algorithm much faster than auto
    # means auto picked badly or the auto measurement was disturbed.
    slow_auto = []
    for r in all_rows:
        t_auto = fnum(r.get("auto_us"))
        for alg in ("direct", "gemm"):
            t = fnum(r.get(alg + "_us"))
            if t_auto and t and t_auto > 1.3 * t:
                slow_auto.append((r, alg, t_auto / t))
    label = lambda r: r["name"] if pass_of(r) == "forward" else "%s (%s)" % (r["name"], pass_of(r))  # noqa: E731
    if bad or notes or slow_auto:
        w("## Warnings")
        w("")
        for r in bad:
            w("- %s, %s threads: outputs disagree: %s" % (label(r), r["threads"], md_escape(r["check"])))
        for r in notes:
            w("- %s, %s threads: %s" % (label(r), r["threads"], md_escape(r["notes"])))
        for r, alg, q in slow_auto:
            plan = short_plan(r.get("plan"))
            # auto ran the very plan the forced algorithm runs: the gap is noise.
            same = " (the same plan: measurement noise)" if plan.startswith(alg + " ") else ""
            w("- %s, %s threads: libconv1d auto took %.2fx the time of forced %s (auto's plan: %s)%s"
              % (label(r), r["threads"], q, alg, md_escape(plan), same))
        w("")

    w("## Chart")
    w("")
    w("![GFLOP/s per row for libconv1d, oneDNN and im2col](%s)" % os.path.basename(args.png))
    w("")
    with open(args.md, "w", encoding="utf-8") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")
    return summary


def bar_panel(ax, sel, series, title):
    """Grouped bars of GFLOP/s per suite row on a log axis, with the FMA peak line."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    width = 0.8 / max(len(series), 1)
    for i, (pick, key, label, color) in enumerate(series):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(sel))]
        ys = [fnum(pick(r).get(key)) or 0.0 if pick(r) else 0.0 for r in sel]
        ax.bar(xs, ys, width, label=label, color=color)
    peak = next((fnum(r["peak_gflops"]) for r in sel if fnum(r["peak_gflops"])), None)
    if peak:
        ax.axhline(peak, color="black", linestyle="--", linewidth=1)
        ax.text(len(sel) - 0.5, peak, "FMA peak %.0f " % peak, va="bottom", ha="right", fontsize=9)
    ax.set_yscale("log")
    values = [fnum(pick(r).get(key)) for r in sel for pick, key, _, _ in series if pick(r)]
    values = [v for v in values if v]
    if values:
        top = max(values + [peak or 0])
        ax.set_ylim(min(values) / 2, top * 4)  # room for the legend above the peak line
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: "%g" % v))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_ylabel("GFLOP/s (log scale)")
    ax.set_title(title)
    ax.set_xticks(range(len(sel)))
    ax.set_xticklabels([r["name"] for r in sel], rotation=35, ha="right", fontsize=9)
    ax.set_xlim(-0.6, len(sel) - 0.4)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=9, ncol=len(series))


def write_png(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    threads = thread_counts(rows)
    forward = [r for r in rows if pass_of(r) == "forward"]
    by_key = {(r["name"], pass_of(r), r["threads"]): r for r in rows}
    same = lambda r: r  # noqa: E731
    panels = []
    if forward:
        series = [(same, "auto_gflops", "libconv1d (auto)", "#1f77b4"), (same, "onednn_gflops", "oneDNN", "#ff7f0e"),
                  (same, "im2col_gflops", "OpenBLAS im2col+sgemm", "#7f7f7f")]
        series = [s for s in series if any(fnum(r.get(s[1])) is not None for r in forward)]
        for t in threads:
            sel = [r for r in forward if int(r["threads"]) == t]
            panels.append((sel, series, "forward, %d thread%s" % (t, "" if t == 1 else "s")))
    data = [r for r in rows if pass_of(r) == "backward_data"]
    if data:
        weights_of = lambda r: by_key.get((r["name"], "backward_weights", r["threads"]))  # noqa: E731
        series = [(same, "auto_gflops", "libconv1d bwd data", "#1f77b4"),
                  (same, "onednn_gflops", "oneDNN bwd data", "#ff7f0e"),
                  (weights_of, "auto_gflops", "libconv1d bwd weights", "#aec7e8"),
                  (weights_of, "onednn_gflops", "oneDNN bwd weights", "#ffbb78")]
        series = [s for s in series if any(s[0](r) and fnum(s[0](r).get(s[1])) is not None for r in data)]
        for t in threads:
            sel = [r for r in data if int(r["threads"]) == t]
            panels.append((sel, series, "backward (linear activation), %d thread%s" % (t, "" if t == 1 else "s")))
    fig, axes = plt.subplots(len(panels), 1, figsize=(15, 4.8 * len(panels)), squeeze=False)
    for ax, (sel, series, title) in zip(axes[:, 0], panels):
        bar_panel(ax, sel, series, title)
    fig.suptitle("Conv1D float32: GFLOP/s per suite row (higher is better)")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))  # keep the suptitle clear of the panels
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", required=True, help="conv1d_bench CSV (--csv or --csv-file output)")
    ap.add_argument("--md", required=True, help="Markdown file to write")
    ap.add_argument("--png", required=True, help="PNG chart to write")
    ap.add_argument("--command", default="conv1d_bench", help="the bench command line, for the record")
    ap.add_argument("--script", default="", help="the script that ran it, for the record")
    ap.add_argument("--isa-cap", default="", help="the ISA both libraries were capped at (e.g. AVX2), if any")
    args = ap.parse_args()
    rows = load_rows(args.csv)
    summary = write_markdown(rows, args)
    write_png(rows, args.png)
    for p, t, g_dnnl, g_i2c in summary:
        print("report.py: %s, %d thread%s: geomean oneDNN/libconv1d %s, im2col/libconv1d %s"
              % (p, t, "" if t == 1 else "s", fmt(g_dnnl, ".3f"), fmt(g_i2c, ".3f")))
    print("report.py: wrote %s and %s" % (args.md, args.png))


if __name__ == "__main__":
    main()
