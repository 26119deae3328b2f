//! `cargo xtask soak`: `byova serve` under steady load for a long time (10 minutes by default)
//! at half its capacity.
//!
//! Passes when no call fails, the server's resident memory stays flat after the warm-up (the
//! median RSS of the last minute at most 5 % above the median of the first minute after the
//! warm-up) and, once the load stops, the live-conversation gauge of `/metrics`
//! (`byova_media_active_calls`) is back to 0. The result is printed and appended to
//! `BENCHMARKS.md`.
//!
//! The warm-up (3 minutes by default) covers what legitimately grows at first: the server
//! remembers ended conversations for 2 minutes (so a late RPC of an ended call gets a clear
//! answer), and the allocator settles its pools.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::loadtest::{self, Plan, RssSampler, Server};
use crate::python::Mode;

/// RSS growth after the warm-up above this fails the soak.
const MAX_GROWTH: f64 = 0.05;
/// How long the live conversations may take to drain once the load stops.
const DRAIN: Duration = Duration::from_secs(30);
/// Ramp of the soak's callers.
const RAMP: Duration = Duration::from_secs(10);

/// `cargo xtask soak` options.
#[derive(Debug, clap::Args)]
pub(crate) struct SoakArgs {
    /// Minutes under load
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Callers at once [default: half of --capacity]
    #[arg(long)]
    concurrency: Option<usize>,
    /// The server's capacity in callers (from `cargo xtask loadtest`) [default: measured first
    /// with a short ladder]
    #[arg(long)]
    capacity: Option<usize>,
    /// Minutes of warm-up left out of the memory check
    #[arg(long, default_value_t = 3.0)]
    warmup_minutes: f64,
    /// Seconds between RSS samples
    #[arg(long, default_value_t = 5)]
    sample_seconds: u64,
    /// Print the result but do not append it to BENCHMARKS.md
    #[arg(long)]
    no_append: bool,
}

pub(crate) fn run(args: &SoakArgs) -> anyhow::Result<()> {
    let total = Duration::try_from_secs_f64(args.minutes * 60.0)
        .ok()
        .filter(|d| *d >= Duration::from_secs(60))
        .context("--minutes must be at least 1")?;
    let warmup = Duration::try_from_secs_f64(args.warmup_minutes * 60.0)
        .context("--warmup-minutes must be a number of minutes")?;
    if warmup + Duration::from_secs(60) > total {
        bail!("the soak must last at least a minute longer than its warm-up");
    }
    loadtest::build_release()?;
    let concurrency = match (args.concurrency, args.capacity) {
        (Some(concurrency), _) => concurrency,
        (None, Some(capacity)) => capacity / 2,
        (None, None) => measure_capacity()? / 2,
    }
    .max(1);

    let metrics_port = free_port()?;
    let server =
        loadtest::start_server(Server::Rust, concurrency, Some(metrics_port), Mode::Chunk)?;
    let pid = server.pid();
    let addr = server.ready_addr()?;
    eprintln!(
        "\n== soak: {concurrency} callers for {:.1} min against {addr} (pid {pid})",
        total.as_secs_f64() / 60.0
    );
    let sampler = RssSampler::start(pid, Duration::from_secs(args.sample_seconds.max(1)));
    let cpu_before = server.cpu_time()?;
    let wall = Instant::now();
    let report = loadtest::simulate(
        addr,
        concurrency,
        total.saturating_sub(RAMP),
        RAMP,
        loadtest::GENERATOR_NICE,
    )?;
    let wall = wall.elapsed();
    let cpu = server.cpu_time()?.saturating_sub(cpu_before);
    let (peak, samples) = sampler.finish();
    let drained = wait_drained(metrics_port);
    let step = loadtest::step_result(Server::Rust, concurrency, &report, cpu, wall, peak);
    server.stop_cleanly()?;

    let memory = flatness(&samples, warmup);
    let mut out = String::new();
    let _ = writeln!(out, "## Soak: `byova serve` at half capacity\n");
    let _ = writeln!(
        out,
        "{}, `cargo xtask {}`: {concurrency} callers for {:.1} min (the loadtest call loop, CHUNK \
         mode, energy endpointer), RSS sampled every {} s, warm-up {:.1} min.\n",
        loadtest::today(),
        std::env::args().skip(1).collect::<Vec<_>>().join(" "),
        total.as_secs_f64() / 60.0,
        args.sample_seconds,
        warmup.as_secs_f64() / 60.0,
    );
    let _ = writeln!(
        out,
        "- calls: {} ({:.1}/s), errors: {}{}",
        step.calls,
        step.calls_per_second,
        step.errors,
        if step.errors == 0 {
            String::new()
        } else {
            format!(" ({})", step.error_kinds)
        }
    );
    let _ = writeln!(
        out,
        "- greeting p99 {:.2} ms; END_OF_INPUT lateness p99 {:.2} ms, max {:.2} ms",
        step.greeting_p99_ms, step.end_of_input_p99_ms, step.end_of_input_max_ms
    );
    let _ = writeln!(
        out,
        "- server CPU {:.3} ms per call ({:.2} cores); peak RSS {:.1} MiB",
        step.cpu_ms_per_call, step.cpu_cores, step.rss_peak_mib
    );
    let _ = writeln!(out, "- RSS by minute (MiB): {}", by_minute(&samples));
    match &memory {
        Some(m) => {
            let _ = writeln!(
                out,
                "- RSS after warm-up: {:.1} MiB first minute, {:.1} MiB last minute: {:+.1} % \
                 (limit +{:.0} %)",
                mib(m.first),
                mib(m.last),
                m.growth * 100.0,
                MAX_GROWTH * 100.0
            );
        }
        None => {
            let _ = writeln!(out, "- RSS after warm-up: too few samples");
        }
    }
    let _ = writeln!(
        out,
        "- live conversations after the load: {}",
        match drained {
            Ok(at) => format!("0 ({:.1} s after the last call)", at.as_secs_f64()),
            Err(ref error) => format!("not 0: {error:#}"),
        }
    );
    let passed = step.errors == 0
        && step.calls > 0
        && memory.as_ref().is_some_and(|m| m.growth <= MAX_GROWTH)
        && drained.is_ok();
    let _ = writeln!(out, "- result: {}", if passed { "PASS" } else { "FAIL" });
    loadtest::print_stdout(&format!("\n{out}\n"));
    if !args.no_append {
        loadtest::append_benchmarks(&out)?;
    }
    if !passed {
        bail!("the soak failed (see above)");
    }
    Ok(())
}

/// A short Rust-only ladder (15 s per step) for the capacity.
fn measure_capacity() -> anyhow::Result<usize> {
    let plan = Plan {
        duration: Duration::from_secs(15),
        ramp: Duration::from_secs(5),
        mode: Mode::Chunk,
        refine: 0,
        runs: 1,
        generator_nice: loadtest::GENERATOR_NICE,
    };
    let steps = loadtest::ladder(Server::Rust, &[500, 1000, 2000, 4000, 8000], &plan, false)?;
    let capacity = loadtest::capacity(&steps)
        .context("byova serve did not pass even 500 callers: give --concurrency")?
        .concurrency;
    eprintln!("measured capacity: {capacity} callers");
    Ok(capacity)
}

/// A free loopback port (bound and released; the server binds it right after).
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Polls `/metrics` until `byova_media_active_calls` is 0; returns how long it took.
fn wait_drained(port: u16) -> anyhow::Result<Duration> {
    let start = Instant::now();
    loop {
        let live = fetch_metrics(port).and_then(|text| {
            active_calls(&text).context("no byova_media_active_calls in /metrics")
        });
        match live {
            Ok(0) => return Ok(start.elapsed()),
            Ok(live) if start.elapsed() >= DRAIN => {
                bail!("{live} still live {} s after the load", DRAIN.as_secs())
            }
            Err(error) if start.elapsed() >= DRAIN => return Err(error),
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// `GET /metrics` over plain HTTP/1.1.
fn fetch_metrics(port: u16) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .with_context(|| format!("cannot reach the metrics port {port}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("not an HTTP response")?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("/metrics answered {}", head.lines().next().unwrap_or(""));
    }
    Ok(body.to_owned())
}

/// The value of the `byova_media_active_calls` gauge.
fn active_calls(metrics: &str) -> Option<u64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix("byova_media_active_calls ")?;
        value.trim().parse::<f64>().ok().map(|v| v as u64)
    })
}

/// RSS after the warm-up: the median of its first minute and of the last minute.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Flatness {
    first: u64,
    last: u64,
    growth: f64,
}

fn flatness(samples: &[(Duration, u64)], warmup: Duration) -> Option<Flatness> {
    let end = samples.last()?.0;
    let minute = Duration::from_secs(60);
    let first = median(
        samples
            .iter()
            .filter(|(t, _)| *t >= warmup && *t < warmup + minute),
    )?;
    let last = median(
        samples
            .iter()
            .filter(|(t, _)| *t + minute >= end && *t >= warmup),
    )?;
    Some(Flatness {
        first,
        last,
        growth: last as f64 / first as f64 - 1.0,
    })
}

fn median<'a>(samples: impl Iterator<Item = &'a (Duration, u64)>) -> Option<u64> {
    let mut values: Vec<u64> = samples.map(|(_, rss)| *rss).collect();
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[values.len() / 2])
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `41.0, 55.2, …`: the mean RSS of each minute.
fn by_minute(samples: &[(Duration, u64)]) -> String {
    let mut minutes: Vec<(u64, u64)> = Vec::new();
    for (at, rss) in samples {
        let minute = usize::try_from(at.as_secs() / 60).unwrap_or(usize::MAX);
        if minutes.len() <= minute {
            minutes.resize(minute + 1, (0, 0));
        }
        minutes[minute].0 += rss;
        minutes[minute].1 += 1;
    }
    minutes
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(sum, n)| format!("{:.1}", mib(sum / n)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64, mib: u64) -> (Duration, u64) {
        (Duration::from_secs(seconds), mib * 1024 * 1024)
    }

    #[test]
    fn flat_memory_after_the_warmup() {
        // Grows during the 2-minute warm-up, then flat with noise.
        let mut samples: Vec<_> = (0..24).map(|i| at(i * 5, 20 + i)).collect();
        samples.extend((24..72).map(|i| at(i * 5, 50 + i % 2)));
        let flat = flatness(&samples, Duration::from_secs(120)).unwrap();
        assert_eq!(
            (flat.first, flat.last),
            (51 * 1024 * 1024, 51 * 1024 * 1024)
        );
        assert!(flat.growth.abs() < 1e-9);
        assert_eq!(by_minute(&samples[..24]), "25.5, 37.5");
    }

    #[test]
    fn growth_is_caught() {
        let samples: Vec<_> = (0..72).map(|i| at(i * 5, 50 + i)).collect();
        let grown = flatness(&samples, Duration::from_secs(120)).unwrap();
        assert!(grown.growth > MAX_GROWTH, "{grown:?}");
        assert_eq!(flatness(&[], Duration::ZERO), None);
    }

    #[test]
    fn the_gauge_is_read() {
        let text = "# HELP byova_media_active_calls Live conversations\n\
                    # TYPE byova_media_active_calls gauge\n\
                    byova_media_active_calls 3\n\
                    byova_media_active_calls_extra 9\n";
        assert_eq!(active_calls(text), Some(3));
        assert_eq!(active_calls("nothing"), None);
    }
}
