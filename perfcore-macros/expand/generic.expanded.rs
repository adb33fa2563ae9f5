fn first<'a, T: Clone, const N: usize>(xs: &'a [T; N]) -> Option<T>
where
    T: 'a,
{
    let __perfcore_guard = {
        static __PERFCORE_CALLSITE: my::perfcore::Callsite = my::perfcore::Callsite::new(
            ::core::concat!(::core::module_path!(), "::", "first"),
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
        );
        my::perfcore::__private::enter_global(&__PERFCORE_CALLSITE)
    };
    { xs.first().cloned() }
}
