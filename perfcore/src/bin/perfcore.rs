//! The `perfcore` command (`cargo install perfcore --features cli`): see [`perfcore::cli`].

fn main() -> std::process::ExitCode {
    perfcore::cli::main()
}
