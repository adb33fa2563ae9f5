fn first<'a, T: Clone, const N: usize>(xs: &'a [T; N]) -> Option<T>
where
    T: 'a,
{
    let __perfcore_guard = {
        fn __perfcore_name() -> &'static str {
            my::perfcore::__private::name_from_marker(
                ::core::any::type_name_of_val(&__perfcore_name),
                "__perfcore_name",
            )
        }
        static __PERFCORE_CALLSITE: my::perfcore::Callsite = my::perfcore::Callsite::__resolved_by(
            __perfcore_name,
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
        );
        my::perfcore::__private::enter_global(&__PERFCORE_CALLSITE)
    };
    xs.first().cloned()
}
