impl Parser {
    fn parse(&self, s: &str) -> Result<u8, Error> {
        #![allow(unused_variables)]
        let __perfcore_guard = {
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
            ::perfcore::__private::enter(&P, &__PERFCORE_CALLSITE)
        };
        ::perfcore::__private::set_failed(&__perfcore_guard, true);
        if s.is_empty() {
            return {
                #[allow(clippy::diverging_sub_expression)]
                let __perfcore_result: Result<u8, Error> = Err(Error);
                #[allow(unused_imports)]
                use ::perfcore::__private::NotAResult as _;
                #[allow(unreachable_code)]
                ::perfcore::__private::set_failed(
                    &__perfcore_guard,
                    (&__perfcore_result).is_err(),
                );
                __perfcore_result
            };
        }
        {
            #[allow(clippy::diverging_sub_expression)]
            let __perfcore_result: Result<u8, Error> = Ok(s.len() as u8);
            #[allow(unused_imports)]
            use ::perfcore::__private::NotAResult as _;
            #[allow(unreachable_code)]
            ::perfcore::__private::set_failed(
                &__perfcore_guard,
                (&__perfcore_result).is_err(),
            );
            __perfcore_result
        }
    }
    fn skipped(&self) {}
    const fn constant() -> u8 {
        0
    }
}
