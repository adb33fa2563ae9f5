//! Compile-time behaviour of `#[profile]`: every documented argument compiles, and every
//! mistake gives one error, spanned at the offending token (the `.stderr` files).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass_arguments.rs");
    t.pass("ui/pass_impl_block.rs");
    t.pass("ui/inner_attribute_and_warnings.rs");
    for case in [
        "unknown_argument",
        "malformed_argument",
        "argument_twice",
        "empty_name",
        "errors_not_bool",
        "const_fn",
        "on_struct",
        "trait_method_without_body",
        "on_closure",
        "name_on_impl",
        "skip_with_arguments",
        "bad_method_argument",
        "lints_still_fire",
        "global_alloc_method",
    ] {
        t.compile_fail(format!("ui/{case}.rs"));
    }
}
