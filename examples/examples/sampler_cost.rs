//! The system sampler's own cost: the CPU time of its thread over the wall time it ran, at the
//! default 1 s interval (goal: under 0.5% of one core).
//!
//! ```text
//! cargo run --release -p perfcore-examples --example sampler_cost            # ~10 s
//! cargo run --release -p perfcore-examples --example sampler_cost -- --full  # 60 s
//! cargo run --release -p perfcore-examples --example sampler_cost -- --seconds 30
//! ```
//!
//! It prints the samples taken, the sampler thread's CPU time (Linux: read by the thread from
//! `/proc/thread-self/schedstat` after each sample), that time as a share of one core, and
//! the bytes its history holds.
//!
//! Measured on the 2-core shared build machine (2026-12, 60 s, 28 series): 0.077% of one core
//! in a release build (0.8 ms per sample), 0.10% in a debug build; the history held 2.1 MiB.

use std::time::{Duration, Instant};

use perfcore::monitor::{MonitorError, SamplerOptions, SystemSampler};

fn seconds_from_args() -> u64 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--full") {
        return 60;
    }
    args.iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

fn main() -> Result<(), MonitorError> {
    let seconds = seconds_from_args();
    let started = Instant::now();
    let sampler = SystemSampler::start(SamplerOptions::default())?;
    std::thread::sleep(Duration::from_secs(seconds));
    let wall = started.elapsed();
    let cpu = sampler.own_cpu_time();
    let taken = sampler.samples_taken();
    let memory = sampler.memory_bytes();
    let series = sampler.observations().len();
    sampler.stop();
    println!("interval:          1 s");
    println!("wall time:         {:.1} s", wall.as_secs_f64());
    println!("samples taken:     {taken}");
    println!("sampler CPU time:  {:.1} ms", cpu.as_secs_f64() * 1e3);
    if taken > 0 {
        #[allow(clippy::cast_precision_loss)]
        let per_sample = cpu.as_secs_f64() * 1e6 / taken as f64;
        println!("per sample:        {per_sample:.0} us");
    }
    println!(
        "own_cpu_time/wall: {:.3}% of one core (goal < 0.5%)",
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    );
    #[allow(clippy::cast_precision_loss)]
    let kib = memory as f64 / 1024.0;
    println!("history:           {series} series, {kib:.1} KiB");
    Ok(())
}
