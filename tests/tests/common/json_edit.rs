//! Structure-aware damage to JSON documents, for the readers' property tests: each edit
//! picks a place of the document by kind (a number, an object, a named field) and breaks it.

use proptest::prelude::*;

/// A change to one place of a JSON document: which leaf or object (by its order in a walk
/// of the document), and what happens to it.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Replaces the n-th number with this one.
    Number(usize, serde_json::Value),
    /// Removes the n-th object's k-th key.
    Remove(usize, usize),
    /// Replaces the n-th value of any kind with this one.
    Replace(usize, serde_json::Value),
    /// Appends a copy of the n-th array's first element to it.
    Duplicate(usize),
    /// Sets this key of the n-th object that has it (fields a walk over every number rarely
    /// reaches).
    Field(usize, &'static str, serde_json::Value),
}

/// Values a hand edit or a bug could leave: huge, negative, fractional, of another type.
pub fn odd_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    prop_oneof![
        4 => prop_oneof![
            Just(0u64),
            Just(1),
            Just(u64::MAX),
            Just(u64::MAX / 2 + 1),
            Just(3_600_000_000_001),
            any::<u64>()
        ]
        .prop_map(Value::from),
        1 => Just(json!(-1)),
        1 => Just(json!(1.5)),
        1 => Just(json!(1e300)),
        1 => Just(Value::Null),
        1 => Just(json!("x")),
        1 => Just(json!([])),
        1 => Just(json!({})),
        1 => Just(json!([[0, 1]])),
        1 => Just(json!([[u64::MAX, u64::MAX]])),
    ]
}

/// Edits that set one of `fields` four times as often as any other kind.
pub fn edit(fields: &'static [&'static str]) -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => (any::<usize>(), odd_value()).prop_map(|(n, v)| Edit::Number(n, v)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(n, k)| Edit::Remove(n, k)),
        1 => (any::<usize>(), odd_value()).prop_map(|(n, v)| Edit::Replace(n, v)),
        1 => any::<usize>().prop_map(Edit::Duplicate),
        4 => (any::<usize>(), prop::sample::select(fields), odd_value())
            .prop_map(|(n, k, v)| Edit::Field(n, k, v)),
    ]
}

/// The JSON pointer of every value of the document, in a fixed walk order, with its value.
fn walk(v: &serde_json::Value, at: String, out: &mut Vec<(String, serde_json::Value)>) {
    out.push((at.clone(), v.clone()));
    match v {
        serde_json::Value::Array(a) => {
            a.iter().enumerate().for_each(|(i, x)| walk(x, format!("{at}/{i}"), out));
        }
        serde_json::Value::Object(o) => {
            o.iter().for_each(|(k, x)| walk(x, format!("{at}/{k}"), out));
        }
        _ => {}
    }
}

/// Applies `e` to `doc`; an edit that finds no target of its kind does nothing.
pub fn apply(doc: &mut serde_json::Value, e: &Edit) {
    let mut all = Vec::new();
    walk(doc, String::new(), &mut all);
    let pick = |pred: &dyn Fn(&serde_json::Value) -> bool, n: usize| {
        let matching: Vec<_> = all.iter().filter(|(_, v)| pred(v)).map(|(p, _)| p).collect();
        (!matching.is_empty()).then(|| matching[n % matching.len()].clone())
    };
    let target = match e {
        Edit::Number(n, _) => pick(&|x| x.is_number(), *n),
        Edit::Remove(n, _) => pick(&|x| x.as_object().is_some_and(|o| !o.is_empty()), *n),
        Edit::Replace(n, _) => pick(&|_| true, *n),
        Edit::Duplicate(n) => pick(&|x| x.as_array().is_some_and(|a| !a.is_empty()), *n),
        Edit::Field(n, key, _) => {
            pick(&|x| x.get(key).is_some(), *n).map(|at| format!("{at}/{key}"))
        }
    };
    let Some(x) = target.and_then(|at| doc.pointer_mut(&at)) else { return };
    match (e, x) {
        (Edit::Number(_, v) | Edit::Replace(_, v) | Edit::Field(_, _, v), x) => *x = v.clone(),
        (Edit::Remove(_, k), serde_json::Value::Object(o)) => {
            let key = o.keys().nth(k % o.len()).cloned().expect("in range");
            o.remove(&key);
        }
        (Edit::Duplicate(_), serde_json::Value::Array(a)) => a.push(a[0].clone()),
        _ => unreachable!("picked by kind"),
    }
}
