#!/usr/bin/env python3
"""Prints the tables of BENCHMARKS.md from criterion's estimates of the last bench run.

Usage: cargo bench -p perfcore-benches && python3 benches/report.py [target/criterion]

Figures are criterion's mean point estimates (ns); ratios are against perfcore_macro, or
against the floor, in the same run.
"""

import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def estimate(group: str, name: str):
    path = root / group / name / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["mean"]["point_estimate"]


def fmt(ns):
    if ns is None:
        return "–"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


variants = [
    "perfcore_macro", "perfcore_attribute", "perfcore_attribute_by_hand", "perfcore_macro_instance", "perfcore_guard", "tracy", "fastrace", "fastrace_trace_attribute",
    "firestorm", "puffin_nested", "puffin_outermost", "tracing", "tracing_instrument",
    "floor_two_tsc", "floor_two_instant",
]
one = {v: estimate("scope_1thread", v) for v in variants}
two = {v: estimate("scope_2threads", v) for v in variants}
ours1, ours2 = one["perfcore_macro"], two["perfcore_macro"]
floor = one["floor_two_tsc"]

print("| variant | 1 thread | 2 threads | 2T / 1T | perfcore / peer (1T) | perfcore / peer (2T) |")
print("|---|---|---|---|---|---|")
for v in variants:
    a, b = one[v], two[v]
    scale = f"{b / a:.2f}×" if a and b else "–"
    r1 = f"{ours1 / a:.2f}" if a and ours1 else "–"
    r2 = f"{ours2 / b:.2f}" if b and ours2 else "–"
    print(f"| {v} | {fmt(a)} | {fmt(b)} | {scale} | {r1} | {r2} |")
if ours1 and floor:
    print(f"\nperfcore_macro / two-TSC floor (1 thread): {ours1 / floor:.2f}×")

print("\n| disabled at run time | ns per scope |")
print("|---|---|")
for v in ["perfcore_macro", "perfcore_macro_instance", "perfcore_guard"]:
    print(f"| {v} | {fmt(estimate('scope_disabled', v))} |")

print("\n| snapshot | time |")
print("|---|---|")
for v in ["1000_callsites_x_8_threads", "to_json_1000_callsites", "from_json_1000_callsites",
          "merge_two_1000_callsite_snapshots"]:
    print(f"| {v} | {fmt(estimate('snapshot', v))} |")

print("\n| alloc + free (64 B) | system | tracking | added |")
print("|---|---|---|---|")
for g in ["alloc_free_1thread", "alloc_free_2threads"]:
    s, t = estimate(g, "system"), estimate(g, "tracking")
    added = fmt(t - s) if s and t else "–"
    print(f"| {g} | {fmt(s)} | {fmt(t)} | {added} |")

plain, profiled = estimate("async_11_polls", "plain"), estimate("async_11_polls", "perfcore_profile")
if plain and profiled:
    print("\n| async fn, 11 polls per call | ns per call | added per poll |")
    print("|---|---|---|")
    print(f"| plain | {fmt(plain)} | – |")
    print(f"| `#[profile]` | {fmt(profiled)} | {fmt((profiled - plain) / 11)} |")
