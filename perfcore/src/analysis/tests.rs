//! The issue's proof (a synthetic workload of known costs) and the invariants, as proptests.

use proptest::prelude::*;

use super::*;
use crate::{AllocationStats, CallNode, FunctionStats, Snapshot};

const MS: u64 = 1_000_000;
const US: u64 = 1_000;

/// One second of self time: `hot` takes 40% of it, `alloc` allocates 2 MiB per call, `tail`
/// has 2% of its calls 100× slower than the rest, `cheap` is a million 50 ns calls, and ten
/// `other_*` functions share the rest at about 3% each.
fn workload() -> Snapshot {
    let mut functions = vec![
        FunctionStats::from_durations("hot", [400 * US; 1000]),
        FunctionStats::from_durations("alloc", [100 * US; 1000]),
        FunctionStats::from_durations(
            "tail",
            (0..1000).map(|i| if i % 50 == 0 { 5 * MS } else { 50 * US }),
        ),
        FunctionStats::from_durations("cheap", std::iter::repeat_n(50, 1_000_000)),
    ];
    functions[1].allocations = Some(AllocationStats {
        calls: 1000,
        allocated_bytes: 1000 * (2 << 20),
        self_allocated_bytes: 1000 * (2 << 20),
        freed_bytes: 1000 * (2 << 20),
        allocations: 1000 * 3,
        self_allocations: 1000 * 3,
    });
    let used: u64 = functions.iter().map(|f| f.self_ns).sum();
    let rest = (1_000 * MS - used) / 10;
    for i in 0..10 {
        functions.push(FunctionStats::from_durations(&format!("other_{i}"), [rest / 100; 100]));
    }
    Snapshot::from_functions(functions, 0, 2_000 * MS)
}

fn find(hot: &[Hotspot], name: &str, kind: HotspotKind) -> Option<Hotspot> {
    hot.iter().find(|h| h.function == name && h.kind == kind).cloned()
}

#[test]
fn proof_each_known_cost_is_named_with_its_evidence() {
    let snap = workload();
    let hot = identify_hotspots(&snap, &HotspotOptions::default());

    // The 40% function ranks first, critical, with its share as evidence.
    assert_eq!((hot[0].function.as_str(), hot[0].kind), ("hot", HotspotKind::SelfTime));
    assert_eq!(hot[0].severity, Severity::Critical);
    assert!((hot[0].share_of_time - 0.4).abs() < 0.005, "{}", hot[0]);
    assert_eq!(hot[0].evidence[0].metric, "self_share");
    // Self-time hotspots come in order of share; the small `other_*` are not hotspots.
    let ranked: Vec<_> = hot
        .iter()
        .filter(|h| h.kind == HotspotKind::SelfTime)
        .map(|h| h.function.as_str())
        .collect();
    assert_eq!(ranked, ["hot", "tail", "alloc", "cheap"]);

    let alloc = find(&hot, "alloc", HotspotKind::AllocationHeavy).unwrap();
    assert_eq!(alloc.severity, Severity::Critical);
    assert_eq!(alloc.evidence[0].metric, "self_bytes_per_call");
    assert_eq!(alloc.evidence[0].value, f64::from(2 << 20));

    let tail = find(&hot, "tail", HotspotKind::TailLatency).unwrap();
    assert_eq!(tail.severity, Severity::Critical);
    assert_eq!(tail.evidence[0].metric, "p99_over_p50");
    let ratio = tail.evidence[0].value;
    assert!((90.0..=110.0).contains(&ratio), "{ratio}"); // 5 ms / 50 µs, within a bucket

    let cheap = find(&hot, "cheap", HotspotKind::CallHeavy).unwrap();
    assert_eq!(cheap.evidence[0].metric, "overhead_share");
    // A million calls × 30 ns = 30 ms of 1 s.
    assert!((cheap.evidence[0].value - 0.03).abs() < 1e-3, "{}", cheap);
    assert_eq!(cheap.evidence[1].value, 1e6);

    // Each is its own kind only: nothing else is flagged.
    for h in &hot {
        let expected = match h.kind {
            HotspotKind::SelfTime => ["hot", "tail", "alloc", "cheap"].contains(&&*h.function),
            HotspotKind::AllocationHeavy => h.function == "alloc",
            HotspotKind::TailLatency => h.function == "tail",
            HotspotKind::CallHeavy => h.function == "cheap",
            _ => false,
        };
        assert!(expected, "unexpected hotspot {h}");
    }
}

#[test]
fn proof_recommendations_and_their_impacts() {
    let snap = workload();
    let recs = generate_recommendations(&snap, &RecommendationOptions::default());
    // Halving `hot` saves 40% × ½ = 20%, the largest saving, first.
    assert_eq!((recs[0].function.as_str(), recs[0].rule), ("hot", Rule::DominantSelfTime));
    assert!((recs[0].impact.saved_fraction().unwrap() - 0.2).abs() < 0.003);
    let rule_of = |name: &str, rule| recs.iter().find(|r| r.function == name && r.rule == rule);
    let tail = rule_of("tail", Rule::TailLatency).unwrap();
    assert!(matches!(tail.impact, Impact::NotEstimated { .. }));
    assert!(tail.strategy.contains("contention"));
    let alloc = rule_of("alloc", Rule::AllocationHeavy).unwrap();
    assert!(alloc.strategy.contains("2.0 MiB"), "{alloc}");
    // The call overhead is an info (3%): not a recommendation by default, but a strategy of
    // `optimize_function`, with its impact from calls × the assumed cost.
    assert!(rule_of("cheap", Rule::CallHeavyTinyFunction).is_none());
    let opt = optimize_function(&snap, "cheap").unwrap();
    let s =
        opt.optimization_strategies.iter().find(|s| s.rule == Rule::CallHeavyTinyFunction).unwrap();
    match &s.potential_improvement {
        Impact::CallOverhead { calls, per_call_ns, saved_ns, saved_fraction } => {
            assert_eq!((*calls, *per_call_ns, *saved_ns), (1_000_000, 30.0, 30e6));
            assert!((saved_fraction - 0.03).abs() < 1e-3);
        }
        other => panic!("{other:?}"),
    }

    let summary = performance_summary(&snap, None);
    assert_eq!(summary.top_functions[0].name, "hot");
    assert_eq!(summary.total_calls, 1_000_000 + 3000 + 1000);
    assert_eq!(summary.memory.as_ref().unwrap().top_allocator.as_deref(), Some("alloc"));
    assert_eq!(summary.profiled_wall_ns, summary.total_self_ns); // no nesting
}

/// The same shapes recorded by a real profiler with a manual clock: a call tree, nesting.
#[cfg(all(feature = "testing", feature = "enabled"))]
#[test]
fn proof_from_a_profiled_run() {
    use crate::PerformanceProfiler;
    use crate::testing::ManualClock;
    use std::time::Duration;

    let clock = ManualClock::new();
    let p = PerformanceProfiler::builder().clock(&clock).build().unwrap();
    let work = |name: &str, ns: u64| {
        let _g = p.scope(name).unwrap();
        clock.advance(Duration::from_nanos(ns));
    };
    for i in 0..200 {
        let _request = p.scope("request").unwrap();
        clock.advance(Duration::from_micros(380));
        work("hot", 400 * US); // 400 of ~950 µs per request: ~42%
        work("tail", if i % 50 == 0 { 2 * MS } else { 20 * US });
        {
            let _batch = p.scope("batch").unwrap();
            for _ in 0..100 {
                work("lookup", 100); // cheap under `batch`
            }
        }
        let _report = p.scope("report").unwrap();
        work("lookup", 100 * US); // dear under `report`
    }
    let snap = p.snapshot();
    let summary = performance_summary(&snap, None);
    assert_eq!(summary.profiled_wall_ns, summary.total_self_ns);
    let hot = identify_hotspots(&snap, &HotspotOptions::default());
    assert_eq!((hot[0].function.as_str(), hot[0].kind), ("hot", HotspotKind::SelfTime));
    assert!((0.35..0.45).contains(&hot[0].share_of_time), "{}", hot[0]);
    assert!(find(&hot, "tail", HotspotKind::TailLatency).is_some());
    let path = hot.iter().find(|h| h.kind == HotspotKind::HotPath).unwrap();
    assert_eq!((path.function.as_str(), path.caller.as_deref()), ("lookup", Some("report")));
    assert!((path.evidence[0].value - 1000.0).abs() < 1.0, "{path}");
    // Making those calls as cheap as the others saves (almost) all of that path's share.
    let rec = generate_recommendations(&snap, &RecommendationOptions::default())
        .into_iter()
        .find(|r| r.rule == Rule::HotPathUnderOneCaller)
        .unwrap();
    let saved = rec.impact.saved_fraction().unwrap();
    assert!(saved <= path.share_of_time && saved > 0.99 * path.share_of_time);
}

#[test]
fn empty_and_zero_snapshots() {
    let snaps = [
        Snapshot::default(),
        Snapshot::from_functions(vec![FunctionStats::from_durations("z", [0; 10])], 0, 0),
        Snapshot::from_functions(vec![FunctionStats::from_durations("e", [])], 0, 0),
    ];
    for snap in &snaps {
        assert!(identify_hotspots(snap, &HotspotOptions::default()).is_empty());
        assert!(generate_recommendations(snap, &RecommendationOptions::default()).is_empty());
        let s = performance_summary(snap, None);
        assert_eq!((s.total_self_ns, s.error_rate), (0, 0.0));
        assert!(s.top_functions.iter().all(|t| t.self_share == 0.0));
    }
}

#[test]
fn outputs_serialise() {
    let snap = workload();
    let hot = identify_hotspots(&snap, &HotspotOptions::default());
    let json = serde_json::to_string(&hot).unwrap();
    assert!(json.contains(r#""kind":"self_time""#) && json.contains(r#""severity":"critical""#));
    let back: Vec<Hotspot> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, hot);
    let recs = generate_recommendations(&snap, &RecommendationOptions::default());
    let json = serde_json::to_string(&recs).unwrap();
    assert!(json.contains(r#""rule":"dominant_self_time""#));
    assert_eq!(serde_json::from_str::<Vec<Recommendation>>(&json).unwrap(), recs);
    let s = performance_summary(&snap, None);
    let back: PerformanceSummary =
        serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
    let opts: HotspotOptions = serde_json::from_str(r#"{"tail_min_calls": 5}"#).unwrap();
    assert_eq!((opts.tail_min_calls, opts.error_min_calls), (5, 10));
}

fn arb_function() -> impl Strategy<Value = FunctionStats> {
    (
        0usize..6,
        prop::collection::vec(prop_oneof![Just(0u64), 0u64..10_000, any::<u64>()], 0..40),
        prop::option::of(any::<u64>()),
        any::<u64>(),
        prop::option::of((any::<u64>(), any::<u64>(), any::<u64>())),
    )
        .prop_map(|(name, durations, self_ns, errors, alloc)| {
            let mut f = FunctionStats::from_durations(&format!("f{name}"), durations);
            if let Some(s) = self_ns {
                f.self_ns = s;
            }
            f.errors = errors % (f.count + 2);
            f.allocations = alloc.map(|(calls, bytes, allocs)| AllocationStats {
                calls,
                allocated_bytes: bytes,
                self_allocated_bytes: bytes,
                freed_bytes: 0,
                allocations: allocs,
                self_allocations: allocs,
            });
            f
        })
}

fn arb_snapshot() -> impl Strategy<Value = Snapshot> {
    (
        prop::collection::vec(arb_function(), 0..8),
        prop::collection::vec(
            (prop::option::of(0usize..12), 0usize..10, any::<u64>(), any::<u64>()),
            0..12,
        ),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(|(functions, nodes, start, end)| {
            let mut snap = Snapshot::from_functions(functions, start, end);
            snap.call_tree = nodes
                .into_iter()
                .map(|(parent, function, count, ns)| CallNode {
                    parent,
                    function,
                    count: count % 1000,
                    errors: 0,
                    total_ns: ns,
                    self_ns: ns / 2,
                })
                .collect();
            snap
        })
}

fn tiny_thresholds() -> RecommendationOptions {
    // Everything fires, so every path of the code runs.
    let mut o = RecommendationOptions { min_severity: Severity::Info, ..Default::default() };
    let t = Thresholds::new(0.0, 0.5, 1.0);
    let h = &mut o.hotspots;
    (h.self_share, h.tail_ratio, h.bytes_per_call, h.allocations_per_call) = (t, t, t, t);
    (h.call_heavy_overhead_share, h.error_rate, h.hot_path_ratio) = (t, t, t);
    (h.tail_min_calls, h.call_heavy_min_calls, h.error_min_calls) = (0, 0, 0);
    (h.tail_min_p99_ns, h.call_heavy_max_mean_ns, h.hot_path_min_share) = (0, f64::MAX, 0.0);
    o
}

proptest! {
    #[test]
    fn shares_are_fractions_and_sum_to_at_most_one(snap in arb_snapshot()) {
        for options in [RecommendationOptions::default(), tiny_thresholds()] {
            let hot = identify_hotspots(&snap, &options.hotspots);
            let mut self_sum = 0.0;
            for h in &hot {
                prop_assert!((0.0..=1.0).contains(&h.share_of_time), "{}", h);
                if h.kind == HotspotKind::SelfTime {
                    self_sum += h.share_of_time;
                }
            }
            prop_assert!(self_sum <= 1.0 + 1e-9);
            let s = performance_summary(&snap, None);
            let top: f64 = s.top_functions.iter().map(|t| t.self_share).sum();
            prop_assert!(top <= 1.0 + 1e-9);
            prop_assert!((0.0..=1.0).contains(&s.error_rate));
        }
    }

    #[test]
    fn impacts_never_exceed_the_share_they_cover(snap in arb_snapshot()) {
        for options in [RecommendationOptions::default(), tiny_thresholds()] {
            let view = View::of(&snap);
            for r in generate_recommendations(&snap, &options) {
                let Some(saved) = r.impact.saved_fraction() else { continue };
                prop_assert!((0.0..=1.0).contains(&saved), "{}", r);
                let covered = match &r.impact {
                    Impact::Amdahl { share, .. } => *share,
                    _ => {
                        let f = view.functions.iter().find(|f| f.name == r.function).unwrap();
                        view.share(u128::from(f.self_ns))
                    }
                };
                prop_assert!(saved <= covered + 1e-12, "{} > {}: {}", saved, covered, r);
                let _ = r.to_string();
            }
            for f in &snap.functions {
                let _ = optimize_function_with(&snap, &f.name, &options).map(|o| o.to_string());
            }
            let _ = performance_summary(&snap, None).to_string();
        }
    }

    #[test]
    fn amdahl_impact_is_at_most_its_share(share in -1.0f64..2.0, speedup in -1.0f64..1e6) {
        let saved = Impact::amdahl(share, speedup).saved_fraction().unwrap();
        prop_assert!(saved >= 0.0 && saved <= share.clamp(0.0, 1.0));
    }
}

#[test]
#[ignore = "a timing, run by hand: cargo test --release -- --ignored large_snapshot"]
fn large_snapshot_timing() {
    let functions: Vec<_> = (0..10_000)
        .map(|i| FunctionStats::from_durations(&format!("f{i}"), (0..20).map(|j| 100 + i * j)))
        .collect();
    let mut snap = Snapshot::from_functions(functions, 0, 1_000_000_000);
    snap.call_tree = (0..100_000)
        .map(|i| CallNode {
            parent: (i >= 10).then_some(i / 10),
            function: i % 10_000,
            count: 3,
            errors: 0,
            total_ns: 1_000,
            self_ns: 500,
        })
        .collect();
    let t = std::time::Instant::now();
    let hot = identify_hotspots(&snap, &HotspotOptions::default());
    let recs = generate_recommendations(&snap, &RecommendationOptions::default());
    let summary = performance_summary(&snap, None);
    eprintln!(
        "{} hotspots, {} recs, {} top: {:?}",
        hot.len(),
        recs.len(),
        summary.top_functions.len(),
        t.elapsed()
    );
}
