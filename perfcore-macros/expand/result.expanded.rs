fn parse(s: &str) -> Result<u8, std::num::ParseIntError> {
    let __perfcore_guard = {
        static __PERFCORE_CALLSITE: ::perfcore::Callsite = ::perfcore::Callsite::new(
            "parse",
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
        );
        ::perfcore::__private::enter_global(&__PERFCORE_CALLSITE)
    };
    ::perfcore::__private::set_failed(&__perfcore_guard, true);
    {
        #[allow(clippy::diverging_sub_expression)]
        let __perfcore_result: Result<u8, std::num::ParseIntError> = Ok(s.parse()?);
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
