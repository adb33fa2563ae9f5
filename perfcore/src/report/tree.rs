//! Walking the call tree with each node's path of functions, for the stack-based exports
//! (folded stacks, speedscope, pprof).
//!
//! The walk is depth-first over an explicit stack (no recursion, so a tree as deep as the
//! profiler's depth limit, or a hand-made file deeper still, cannot overflow the thread's
//! stack) and takes O(nodes) time. It trusts nothing in the tree: a node whose parent index
//! is not below its own (or is out of range) is a root, as `analysis::is_root` decides, so a
//! malformed file cannot make a cycle; a node naming a function index outside
//! `Snapshot::functions` is skipped together with the nodes below it.

use crate::Snapshot;

/// The node's parent when it is a real one: an earlier node.
fn parent_of(snap: &Snapshot, i: usize) -> Option<usize> {
    snap.call_tree[i].parent.filter(|&p| p < i)
}

/// Calls `visit(node, path)` for every reachable call-tree node, parents before children,
/// where `path` holds the function indices from the root down to the node (the node's own
/// function last). Function indices in `path` are always valid for `snap.functions`.
pub(crate) fn for_each_path(snap: &Snapshot, mut visit: impl FnMut(usize, &[usize])) {
    let n = snap.call_tree.len();
    let functions = snap.functions.len();
    // Children of every node, contiguous per parent (compressed sparse rows), in index order.
    let mut start = vec![0usize; n + 1];
    for i in 0..n {
        if let Some(p) = parent_of(snap, i) {
            start[p + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut children = vec![0usize; start[n]];
    for i in 0..n {
        if let Some(p) = parent_of(snap, i) {
            children[fill[p]] = i;
            fill[p] += 1;
        }
    }
    drop(fill);

    let mut path: Vec<usize> = Vec::new();
    // (node, position of its next child in `children`)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in (0..n).filter(|&i| parent_of(snap, i).is_none()) {
        let function = snap.call_tree[root].function;
        if function >= functions {
            continue;
        }
        path.push(function);
        visit(root, &path);
        stack.push((root, start[root]));
        while let Some(top) = stack.last_mut() {
            let (node, next) = *top;
            if next < start[node + 1] {
                top.1 += 1;
                let child = children[next];
                let function = snap.call_tree[child].function;
                if function < functions {
                    path.push(function);
                    visit(child, &path);
                    stack.push((child, start[child]));
                }
            } else {
                stack.pop();
                path.pop();
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{CallNode, FunctionStats};

    /// A call-tree node for tests.
    pub(crate) fn node(parent: Option<usize>, function: usize, self_ns: u64) -> CallNode {
        CallNode { parent, function, count: 1, errors: 0, total_ns: self_ns, self_ns }
    }

    /// A snapshot of functions named `names` with the given call tree.
    pub(crate) fn snapshot(names: &[&str], tree: Vec<CallNode>) -> Snapshot {
        let functions = names.iter().map(|n| FunctionStats::from_durations(n, [10])).collect();
        let mut snap = Snapshot::from_functions(functions, 0, 1_000);
        snap.call_tree = tree;
        snap
    }

    fn paths(snap: &Snapshot) -> Vec<(usize, Vec<usize>)> {
        let mut out = Vec::new();
        for_each_path(snap, |i, p| out.push((i, p.to_vec())));
        out
    }

    #[test]
    fn paths_follow_parents_in_any_order() {
        // Breadth-first order, as merged snapshots have it.
        let snap = snapshot(
            &["a", "b", "c"],
            vec![node(None, 0, 1), node(Some(0), 1, 1), node(Some(0), 2, 1), node(Some(1), 2, 1)],
        );
        assert_eq!(
            paths(&snap),
            vec![(0, vec![0]), (1, vec![0, 1]), (3, vec![0, 1, 2]), (2, vec![0, 2])]
        );
    }

    #[test]
    fn malformed_parents_are_roots_and_bad_functions_are_skipped() {
        let snap = snapshot(
            &["a", "b"],
            vec![
                node(Some(0), 0, 1), // its own parent: a root
                node(Some(5), 1, 1), // a later (missing) parent: a root
                node(None, 9, 1),    // unknown function: skipped, and its child too
                node(Some(2), 0, 1),
                node(Some(1), 0, 1),
            ],
        );
        assert_eq!(paths(&snap), vec![(0, vec![0]), (1, vec![1]), (4, vec![1, 0])]);
    }

    #[test]
    fn a_deep_chain_does_not_recurse() {
        let n: usize = 200_000;
        let tree = (0..n).map(|i| node(i.checked_sub(1), i % 2, 1)).collect();
        let snap = snapshot(&["a", "b"], tree);
        let mut deepest = 0;
        for_each_path(&snap, |_, p| deepest = deepest.max(p.len()));
        assert_eq!(deepest, n);
    }
}
