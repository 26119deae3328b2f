//! Load mode (`--calls`, `--duration`): many callers at once, a progress bar, a latency report.

use std::time::Duration;

use byova::media::client::Target;
use byova::media::client::load::{Latency, LoadConfig, LoadReport, LoadStep, LoadTest};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::call::LoadedStep;
use crate::exit::CliError;
use crate::output::{self, Output};

/// The load test's settings, from the options.
#[derive(Debug)]
pub(super) struct LoadSettings {
    pub(super) target: Target,
    pub(super) token: Option<String>,
    pub(super) config: LoadConfig,
    /// Worker threads of the load generator's own runtime (1: a single-threaded runtime).
    pub(super) threads: usize,
}

/// Turns the script into load-test steps.
pub(super) fn steps(steps: Vec<LoadedStep>) -> Vec<LoadStep> {
    steps
        .into_iter()
        .map(|step| match step {
            LoadedStep::Say(utterance) => LoadStep::Say(utterance.mulaw.into()),
            LoadedStep::Dtmf(digits) => LoadStep::Dtmf(digits),
            LoadedStep::Event { name, data } => LoadStep::Event {
                name,
                parameters: data,
            },
            LoadedStep::NoInput => LoadStep::NoInput,
            LoadedStep::Pause(pause) => LoadStep::Pause(pause),
        })
        .collect()
}

/// Runs the load test, shows progress on stderr (when it is a terminal), prints the report and
/// fails when any call failed.
pub(super) async fn run(settings: LoadSettings, output: Output) -> Result<(), CliError> {
    let calls = settings.config.calls;
    let duration = settings.config.duration;
    let mut test = LoadTest::new(settings.target.clone(), settings.config)
        .map_err(|error| CliError::usage(error.to_string()))?;
    if let Some(token) = &settings.token {
        test = test
            .with_token(token)
            .map_err(|_| CliError::usage("--token holds characters gRPC metadata cannot carry"))?;
    }
    let progress = test.progress();
    let bar = match (calls, duration) {
        (Some(calls), _) => {
            ProgressBar::with_draw_target(Some(calls), ProgressDrawTarget::stderr())
        }
        (None, _) => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} calls · {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let ticker = {
        let bar = bar.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tick.tick().await;
                bar.set_position(progress.completed());
                bar.set_message(format!(
                    "{} active · {} failed",
                    progress.active(),
                    progress.failed()
                ));
            }
        })
    };
    // The generator runs on a runtime of its own, sized apart from the CLI's (`--threads`): one
    // thread avoids cross-thread wake-ups and leaves the other cores to a server on the same
    // machine; more keep up with more callers.
    let threads = settings.threads.max(1);
    let result = tokio::task::spawn_blocking(move || {
        let runtime = if threads == 1 {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .enable_all()
                .build()
        }
        .map_err(|error| CliError::Refused {
            kind: "runtime",
            message: format!("cannot start the load generator's runtime: {error}"),
        })?;
        Ok::<_, CliError>(runtime.block_on(test.run()))
    })
    .await
    .map_err(|error| CliError::Refused {
        kind: "runtime",
        message: format!("the load generator stopped: {error}"),
    })??;
    ticker.abort();
    bar.finish_and_clear();
    let report = result.map_err(|error| super::client_error(&settings.target, &error))?;
    if output.json {
        let mut value = serde_json::to_value(&report).map_err(|error| CliError::Refused {
            kind: "output",
            message: format!("cannot print the report: {error}"),
        })?;
        value["ok"] = serde_json::Value::Bool(report.is_clean());
        output.json(&value)?;
    } else {
        output::write_stdout(&render(&report));
    }
    if report.is_clean() {
        Ok(())
    } else {
        Err(CliError::Refused {
            kind: "calls_failed",
            message: format!(
                "{} of {} calls failed ({} errors: {})",
                report.failed_calls,
                report.calls,
                report.error_count(),
                error_list(&report)
            ),
        })
    }
}

fn error_list(report: &LoadReport) -> String {
    report
        .errors
        .iter()
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The report as text.
pub(super) fn render(report: &LoadReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "load test of {}: {} callers at once over {} connection{}",
        report.target,
        report.concurrency,
        report.connections,
        if report.connections == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "calls: {} in {:.1} s ({:.1} calls/s), {} failed, {} RPCs",
        report.calls,
        report.elapsed_seconds,
        report.calls_per_second,
        report.failed_calls,
        report.rpcs
    );
    let _ = writeln!(out);
    let rows: [(&str, &Latency); 7] = [
        (
            "greeting (SESSION_START → first response)",
            &report.greeting,
        ),
        ("END_OF_INPUT lateness", &report.end_of_input_lateness),
        ("reply (END_OF_INPUT → reply)", &report.reply),
        ("DTMF / event turns", &report.other_turns),
        ("SESSION_END", &report.session_end),
        ("frame clock lag (load generator)", &report.frame_lag),
        ("", &Latency::default()),
    ];
    let _ = writeln!(
        out,
        "{:<44}{:>8}{:>9}{:>9}{:>9}{:>9}",
        "latency (ms)", "count", "p50", "p95", "p99", "max"
    );
    for (name, latency) in rows.iter().filter(|(name, _)| !name.is_empty()) {
        if latency.count == 0 {
            continue;
        }
        let _ = writeln!(
            out,
            "{name:<44}{:>8}{:>9.2}{:>9.2}{:>9.2}{:>9.2}",
            latency.count, latency.p50_ms, latency.p95_ms, latency.p99_ms, latency.max_ms
        );
    }
    if report.end_of_input_early > 0 {
        let _ = writeln!(
            out,
            "END_OF_INPUT before speech end + end silence: {} (not in the lateness figures)",
            report.end_of_input_early
        );
    }
    if report.frames_deferred > 0 {
        let _ = writeln!(
            out,
            "frames delayed by a full request buffer: {} of {}",
            report.frames_deferred, report.frames_sent
        );
    }
    let _ = writeln!(out);
    if report.errors.is_empty() {
        let _ = writeln!(out, "errors: none");
    } else {
        let _ = writeln!(out, "errors: {}", error_list(report));
        for sample in &report.error_samples {
            let _ = writeln!(out, "  {sample}");
        }
    }
    out
}
