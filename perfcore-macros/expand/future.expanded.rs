fn fetch(id: u64) -> impl Future<Output = Result<u64, Error>> {
    ::perfcore::__private::instrument(
        ::perfcore::global(),
        {
            fn __perfcore_name() -> &'static str {
                ::perfcore::__private::name_from_marker(
                    ::core::any::type_name_of_val(&__perfcore_name),
                    "__perfcore_name",
                )
            }
            static __PERFCORE_CALLSITE: ::perfcore::Callsite = ::perfcore::Callsite::__resolved_by(
                __perfcore_name,
                ::core::module_path!(),
                ::core::file!(),
                ::core::line!(),
            );
            &__PERFCORE_CALLSITE
        },
        '__perfcore_body: {
            let fut = async move { Ok(id) };
            break '__perfcore_body fut;
        },
        |__perfcore_r: &Result<u64, Error>| {
            #[allow(unused_imports)]
            use ::perfcore::__private::NotAResult as _;
            __perfcore_r.is_err()
        },
    )
}
