//! Load experiment: simulated real-time callers against a media server running in a child
//! process, reporting errors, greeting latency, END_OF_INPUT lateness, and the server's CPU time
//! per call and memory.
//!
//! ```text
//! cargo run --release -p byova-media --features client --example loadtest -- \
//!     --callers 2000 --duration 60 --ramp 20 --vad energy
//! ```
//!
//! Each caller repeats: a greeting turn (SESSION_START; the server answers with 1 s of audio), a
//! spoken turn (the `yes.wav` fixture as 20 ms μ-law frames in real time, stopping at
//! END_OF_INPUT as Webex does; the server answers with 1 s of audio), and SESSION_END.
//!
//! Options: `--callers N` (500), `--duration S` measured seconds after the ramp (30), `--ramp S`
//! over which callers start (10), `--connections N` HTTP/2 connections shared by the callers (8),
//! `--vad energy|earshot` (energy), `--server-threads N` (2), `--client-threads N` (2),
//! `--target HOST:PORT` to load an already running server instead (no CPU or memory figures).
//! The child is started as `loadtest serve --port 0 --vad …` and prints `LISTENING <addr>`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use byova_media::audio::{self, PromptAudio};
use byova_media::client::{Caller, EventType, SpeakOptions};
use byova_media::vad::EndpointerConfig;
use byova_media::{
    AgentConfig, AgentResult, Audio, Context, Detector, MediaServer, Reply, SessionStart,
    Utterance, VirtualAgent,
};
use tokio::time::Instant;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Speech in `yes.wav` ends at sample 9753 (see `tests/fixtures/speech.json`).
const SPEECH_END: Duration = Duration::from_micros(9753 * 125);

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        serve(&Options::parse(&args[1..])?)
    } else {
        load(&Options::parse(&args)?)
    }
}

#[derive(Debug, Clone)]
struct Options {
    callers: usize,
    duration: Duration,
    ramp: Duration,
    connections: usize,
    vad: String,
    server_threads: usize,
    client_threads: usize,
    target: Option<String>,
    port: u16,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, BoxError> {
        let mut options = Self {
            callers: 500,
            duration: Duration::from_secs(30),
            ramp: Duration::from_secs(10),
            connections: 8,
            vad: "energy".into(),
            server_threads: 2,
            client_threads: 2,
            target: None,
            port: 0,
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--callers" => options.callers = value.parse()?,
                "--duration" => options.duration = Duration::from_secs_f64(value.parse()?),
                "--ramp" => options.ramp = Duration::from_secs_f64(value.parse()?),
                "--connections" => options.connections = value.parse::<usize>()?.max(1),
                "--vad" => options.vad = value.clone(),
                "--server-threads" => options.server_threads = value.parse::<usize>()?.max(1),
                "--client-threads" => options.client_threads = value.parse::<usize>()?.max(1),
                "--target" => options.target = Some(value.clone()),
                "--port" => options.port = value.parse()?,
                other => return Err(format!("unknown option {other}").into()),
            }
        }
        Ok(options)
    }
}

/// The server's agent: a 1 s greeting and a 1 s answer, both prepared once and shared.
struct LoadAgent {
    greeting: Audio,
    answer: Audio,
}

impl VirtualAgent for LoadAgent {
    type State = ();

    async fn on_session_start(&self, _: &mut Context<'_, ()>, _: SessionStart) -> AgentResult {
        Ok(Reply::play(self.greeting.clone()))
    }

    async fn on_utterance(&self, _: &mut Context<'_, ()>, _: Utterance) -> AgentResult {
        Ok(Reply::play(self.answer.clone()))
    }
}

fn tone(hz: f32) -> Audio {
    let samples: Vec<i16> = (0..8000u16)
        .map(|i| (6000.0 * (f32::from(i) * hz * std::f32::consts::TAU / 8000.0).sin()) as i16)
        .collect();
    Audio::mulaw(audio::mulaw::encode(&samples))
}

fn serve(options: &Options) -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.server_threads)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let detector = match options.vad.as_str() {
            "earshot" => Detector::Earshot,
            _ => Detector::Energy,
        };
        let agent = LoadAgent {
            greeting: tone(440.0),
            answer: tone(660.0),
        };
        let server = MediaServer::builder()
            .addr(format!("127.0.0.1:{}", options.port).parse()?)
            .disable_authentication()
            .detector(detector)
            .endpointing(EndpointerConfig::default())
            .max_calls(100_000)
            .agent(AgentConfig::new("load", agent))
            .build()?
            .bind()
            .await?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "LISTENING {}", server.local_addr())?;
            out.flush()?;
        }
        // Run until the parent closes stdin.
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        })
        .await?;
        server.shutdown().await?;
        Ok::<_, BoxError>(())
    })
}

/// CPU seconds (user + system) and resident memory of a process, from /proc.
fn process_usage(pid: u32) -> Option<(f64, u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find(|line| line.starts_with(key))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Some((ticks / clock_ticks(), kib("VmRSS:"), kib("VmHWM:")))
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

struct ServerProcess {
    child: Child,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Closing stdin asks the server to shut down; then reap it.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

#[derive(Debug, Default)]
struct Tally {
    calls: u64,
    errors: u64,
    first_errors: Vec<String>,
    greeting: Vec<Duration>,
    lateness_ms: Vec<f64>,
}

impl Tally {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.first_errors.len() < 5 {
            self.first_errors.push(what);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.calls += other.calls;
        self.errors += other.errors;
        for error in other.first_errors {
            if self.first_errors.len() < 5 {
                self.first_errors.push(error);
            }
        }
        self.greeting.extend(other.greeting);
        self.lateness_ms.extend(other.lateness_ms);
    }
}

fn percentile<T: Copy + PartialOrd>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied()
}

async fn caller_loop(
    caller: Caller,
    index: usize,
    audio: Arc<Vec<u8>>,
    start_at: Instant,
    measure_from: Instant,
    stop_at: Instant,
) -> Tally {
    tokio::time::sleep_until(start_at).await;
    let mut tally = Tally::default();
    let mut options = SpeakOptions::default();
    options.trailing_silence = Duration::from_secs(2);
    let ideal_end = SPEECH_END + EndpointerConfig::default().end_silence;
    let mut n = 0u64;
    while Instant::now() < stop_at {
        n += 1;
        let measured = Instant::now() >= measure_from;
        let call = caller
            .call(format!("load-{index}-{n}"))
            .customer_org_id("org");
        let greeting = call.session_start("", Default::default()).await;
        if !greeting.is_ok() || greeting.responses.is_empty() {
            tally.error(format!("greeting: {:?}", greeting.status));
            continue;
        }
        let spoken = call.speak(&audio, &options).await;
        let end = spoken.first_event(EventType::EndOfInput).map(|r| r.at);
        let ended = call.session_end().await;
        if !measured {
            continue;
        }
        tally.calls += 1;
        tally.greeting.push(greeting.responses[0].at);
        match (spoken.is_ok(), end, spoken.audio_started) {
            (true, Some(end), Some(started)) => {
                let ideal = started + ideal_end;
                tally
                    .lateness_ms
                    .push((end.as_secs_f64() - ideal.as_secs_f64()) * 1000.0);
            }
            _ => tally.error(format!(
                "spoken turn: {:?}, END_OF_INPUT {end:?}",
                spoken.status
            )),
        }
        if !ended.is_ok() {
            tally.error(format!("session end: {:?}", ended.status));
        }
    }
    tally
}

fn load(options: &Options) -> Result<(), BoxError> {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/yes.wav");
    let wav = std::fs::read(&fixture).map_err(|err| format!("{}: {err}", fixture.display()))?;
    let audio = Arc::new(audio::to_mulaw_8k(PromptAudio::Wav(&wav))?);

    let mut server = None;
    let target = match &options.target {
        Some(target) => target.clone(),
        None => {
            let mut child = Command::new(std::env::current_exe()?)
                .args([
                    "serve",
                    "--vad",
                    &options.vad,
                    "--server-threads",
                    &options.server_threads.to_string(),
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let stdout = child.stdout.take().ok_or("no child stdout")?;
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line)?;
            let addr = line
                .trim()
                .strip_prefix("LISTENING ")
                .ok_or_else(|| format!("unexpected server output {line:?}"))?
                .to_owned();
            server = Some(ServerProcess { child });
            addr
        }
    };
    let pid = server.as_ref().map(|s| s.child.id());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.client_threads)
        .enable_all()
        .build()?;
    let (tally, cpu, elapsed) = runtime.block_on(async {
        let mut callers = Vec::with_capacity(options.connections);
        for _ in 0..options.connections {
            callers.push(Caller::connect(format!("http://{target}")).await?);
        }
        let begin = Instant::now();
        let measure_from = begin + options.ramp;
        let stop_at = measure_from + options.duration;
        let mut tasks = tokio::task::JoinSet::new();
        for index in 0..options.callers {
            let offset = options
                .ramp
                .mul_f64(index as f64 / options.callers.max(1) as f64);
            tasks.spawn(caller_loop(
                callers[index % callers.len()].clone(),
                index,
                Arc::clone(&audio),
                begin + offset,
                measure_from,
                stop_at,
            ));
        }
        tokio::time::sleep_until(measure_from).await;
        let cpu_start = pid.and_then(process_usage);
        let measuring = Instant::now();
        tokio::time::sleep_until(stop_at).await;
        let cpu_end = pid.and_then(process_usage);
        let elapsed = measuring.elapsed();
        let mut tally = Tally::default();
        while let Some(joined) = tasks.join_next().await {
            tally.merge(joined?);
        }
        Ok::<_, BoxError>((tally, cpu_start.zip(cpu_end), elapsed))
    })?;
    drop(server);

    let mut greeting = tally.greeting.clone();
    greeting.sort();
    let mut lateness = tally.lateness_ms.clone();
    lateness.sort_by(f64::total_cmp);
    let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "callers {} for {:.0} s after a {:.0} s ramp, {} connections, VAD {}",
        options.callers,
        elapsed.as_secs_f64(),
        options.ramp.as_secs_f64(),
        options.connections,
        options.vad
    )?;
    writeln!(
        out,
        "calls measured {} ({:.1}/s), errors {}",
        tally.calls,
        tally.calls as f64 / elapsed.as_secs_f64(),
        tally.errors
    )?;
    for error in &tally.first_errors {
        writeln!(out, "  error: {error}")?;
    }
    writeln!(
        out,
        "greeting latency ms: p50 {:.2}  p99 {:.2}  max {:.2}",
        ms(percentile(&greeting, 0.5)),
        ms(percentile(&greeting, 0.99)),
        ms(greeting.last().copied())
    )?;
    writeln!(
        out,
        "END_OF_INPUT lateness ms (vs speech end + 800 ms): p50 {:.1}  p99 {:.1}  max {:.1}",
        percentile(&lateness, 0.5).unwrap_or(f64::NAN),
        percentile(&lateness, 0.99).unwrap_or(f64::NAN),
        lateness.last().copied().unwrap_or(f64::NAN)
    )?;
    if let Some(((cpu_a, _, _), (cpu_b, rss, hwm))) = cpu {
        let cpu = cpu_b - cpu_a;
        writeln!(
            out,
            "server CPU {:.2} s = {:.0}% of one core, {:.3} ms per call; RSS {} MiB (peak {} MiB)",
            cpu,
            100.0 * cpu / elapsed.as_secs_f64(),
            1000.0 * cpu / tally.calls.max(1) as f64,
            rss / 1024,
            hwm / 1024
        )?;
    }
    Ok(())
}
