fn fetch(id: u64) -> impl ::core::future::Future<Output = Result<String, Error>> {
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
        async move {
            let id = id;
            #[allow(
                unreachable_code,
                clippy::diverging_sub_expression,
                clippy::empty_loop
            )]
            if false {
                let __perfcore_never: Result<String, Error> = loop {};
                return __perfcore_never;
            }
            let page = get(id).await?;
            Ok(page)
        },
        |__perfcore_r: &Result<String, Error>| {
            #[allow(unused_imports)]
            use ::perfcore::__private::NotAResult as _;
            __perfcore_r.is_err()
        },
    )
}
