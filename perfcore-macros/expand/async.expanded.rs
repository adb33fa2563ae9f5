async fn fetch(id: u64) -> Result<String, Error> {
    static __PERFCORE_CALLSITE: ::perfcore::Callsite = ::perfcore::Callsite::new(
        ::core::concat!(::core::module_path!(), "::", "fetch"),
        ::core::module_path!(),
        ::core::file!(),
        ::core::line!(),
    );
    ::perfcore::__private::instrument(
            ::perfcore::global(),
            &__PERFCORE_CALLSITE,
            ::core::option::Option::Some(|r: &Result<String, Error>| r.is_err()),
            async move {
                #[allow(
                    unreachable_code,
                    clippy::diverging_sub_expression,
                    clippy::empty_loop
                )]
                if false {
                    let __perfcore_never: Result<String, Error> = loop {};
                    return __perfcore_never;
                }
                {
                    let page = get(id).await?;
                    Ok(page)
                }
            },
        )
        .await
}
