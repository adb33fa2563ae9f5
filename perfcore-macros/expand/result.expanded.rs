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
    #[allow(clippy::redundant_closure_call)]
    let __perfcore_result: Result<u8, std::num::ParseIntError> = (move || -> Result<
        u8,
        std::num::ParseIntError,
    > { Ok(s.parse()?) })();
    if __perfcore_result.is_err() {
        __perfcore_guard.mark_failed();
    }
    __perfcore_result
}
