//! Building a [`Snapshot`] from the counters the threads recorded.

use std::collections::HashMap;

use super::callsite;
use super::shared::{Accum, FunctionAccum};
use crate::stats::{
    AllocationStats, CallNode, FunctionStats, LatencyHistogram, SCHEMA_VERSION, Snapshot,
};

/// The snapshot of a window's merged counters.
pub(crate) fn snapshot(acc: Accum, started_unix_ns: u64, ended_unix_ns: u64) -> Snapshot {
    let window = ended_unix_ns.saturating_sub(started_unix_ns);
    let callsites = callsite::all();
    let mut functions = Vec::new();
    let mut position = HashMap::new();
    for (index, f) in acc.functions.into_iter().enumerate() {
        let (Some(f), Some(cs)) = (f, callsites.get(index)) else { continue };
        position.insert(index as u32, functions.len());
        functions.push(function(cs, f, window));
    }
    // Tree nodes are created parent first, so a parent's position is known before its
    // children's; a node whose function is unknown is dropped with its subtree.
    let mut node_position: Vec<Option<usize>> = Vec::with_capacity(acc.tree.nodes.len());
    let mut call_tree = Vec::with_capacity(acc.tree.nodes.len());
    for n in &acc.tree.nodes {
        let parent = match n.parent {
            None => None,
            Some(p) => match node_position.get(p as usize).copied().flatten() {
                Some(p) => Some(p),
                None => {
                    node_position.push(None);
                    continue;
                }
            },
        };
        let Some(&function) = position.get(&n.callsite) else {
            node_position.push(None);
            continue;
        };
        node_position.push(Some(call_tree.len()));
        call_tree.push(CallNode {
            parent,
            function,
            count: n.count,
            errors: n.counters.errors,
            total_ns: n.counters.total_ns,
            self_ns: n.counters.self_ns,
        });
    }
    Snapshot {
        schema_version: SCHEMA_VERSION,
        started_unix_ns,
        ended_unix_ns,
        functions,
        call_tree,
        timeline: None,
    }
}

/// One function's statistics from its merged counters.
fn function(cs: &crate::Callsite, acc: FunctionAccum, window_ns: u64) -> FunctionStats {
    let mut s = FunctionStats::empty(cs.name(), cs.module_path(), cs.file(), cs.line());
    let c = &acc.counters;
    s.histogram = LatencyHistogram::from_counts(&acc.counts);
    // Each path's call counters were clamped to its count when read, so these sums stay
    // within the histogram's.
    s.errors = c.errors;
    s.total_ns = c.function_total_ns();
    s.self_ns = c.self_ns;
    s.min_ns = if acc.min_ns == u64::MAX { 0 } else { acc.min_ns };
    s.max_ns = acc.max_ns;
    s.clamped = c.clamped;
    s.busy_ns = c.busy_ns;
    s.cancelled = c.cancelled;
    s.folded_calls = c.folded;
    s.allocations = (c.alloc_calls > 0).then_some(AllocationStats {
        calls: c.alloc_calls,
        allocated_bytes: c.alloc_bytes,
        self_allocated_bytes: c.alloc_self_bytes,
        freed_bytes: c.alloc_freed_bytes,
        allocations: c.alloc_count,
        self_allocations: c.alloc_self_count,
    });
    s.finish(window_ns);
    s
}
