//! The Python capacity baseline of `cargo xtask loadtest`, and the `/proc` readers both servers
//! are measured with.
//!
//! The baseline is `xtask/python/baseline_server.py`: a minimal grpc.aio server running the demo
//! agent of `docs/demo-agent.md` on our `proto/` files. [`ensure_venv`] builds what it needs under
//! `target/python-baseline/` (a venv with the pinned `xtask/python/requirements.txt`, and the
//! stubs generated from `proto/` with grpcio-tools), rebuilding only what is stale.
//! [`start_baseline`] runs it as a [`ServerProcess`], a guard that stops it (SIGTERM, then SIGKILL
//! after a grace period) when dropped. [`smoke`] runs `xtask/python/smoke_client.py`, a scripted
//! call checked message by message, against any demo-agent server.
//!
//! [`process_cpu_time`] and [`process_rss_bytes`] read `/proc/<pid>/stat` and
//! `/proc/<pid>/status` for any process, so the Rust server is measured the same way;
//! [`children_cpu_time`] reads what this process's finished children used (the load generator).

use std::fs;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::sh;

/// Everything the baseline builds, relative to the workspace root.
const BASELINE_DIR: &str = "target/python-baseline";
/// The Python scripts and the pinned requirements, relative to the workspace root.
const SCRIPTS_DIR: &str = "xtask/python";
/// The `.proto` files the stubs are generated from, relative to the workspace root.
const PROTO_DIR: &str = "proto";
/// The interpreter the venv is created with. The baseline needs `audioop`: 3.11 or 3.12.
const SYSTEM_PYTHON: &str = "python3";
/// Records what a venv or stub folder was built from (a hash), inside that folder.
const STAMP_FILE: &str = ".xtask-stamp";
/// The line a server prints once it serves, followed by its address.
const READY_MARKER: &str = "listening on ";
/// How long the baseline may take to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopping server may take after SIGTERM before it is killed. The baseline's own
/// grace period for running turns is 5 s.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How the demo agent sends reply audio (`--mode` of both servers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One FINAL whose prompts are complete μ-law WAV files.
    Wav,
    /// Raw μ-law CHUNKs of 100 B – 64 KiB, then one FINAL without audio.
    Chunk,
}

impl Mode {
    /// The command-line value (`wav` or `chunk`).
    pub(crate) fn as_arg(self) -> &'static str {
        match self {
            Self::Wav => "wav",
            Self::Chunk => "chunk",
        }
    }
}

/// Paths of the baseline, absolute.
#[derive(Debug)]
struct Paths {
    venv: PathBuf,
    python: PathBuf,
    gen_dir: PathBuf,
    requirements: PathBuf,
    scripts: PathBuf,
    proto: PathBuf,
}

impl Paths {
    fn new() -> Self {
        let root = sh::workspace_root();
        let base = root.join(BASELINE_DIR);
        let venv = base.join("venv");
        Self {
            python: venv.join("bin").join("python"),
            venv,
            gen_dir: base.join("gen"),
            requirements: root.join(SCRIPTS_DIR).join("requirements.txt"),
            scripts: root.join(SCRIPTS_DIR),
            proto: root.join(PROTO_DIR),
        }
    }
}

/// Creates or refreshes `target/python-baseline/`: the venv (when missing, or when
/// `requirements.txt` or the system `python3` changed) and the stubs generated from `proto/`
/// (when missing, or when a `.proto` file or the venv changed).
///
/// Needs `python3` 3.11 or 3.12 on `PATH` and access to PyPI the first time.
pub(crate) fn ensure_venv() -> anyhow::Result<()> {
    let paths = Paths::new();
    let version = system_python_version()?;
    let requirements = fs::read(&paths.requirements)
        .with_context(|| format!("cannot read {}", paths.requirements.display()))?;
    let mut venv_input = requirements;
    venv_input.extend_from_slice(version.as_bytes());
    let venv_stamp = format!("{:016x}", fnv1a64(&venv_input));
    if paths.python.is_file() && read_stamp(&paths.venv).as_deref() == Some(venv_stamp.as_str()) {
        eprintln!(
            "python baseline: venv up to date ({})",
            paths.venv.display()
        );
    } else {
        build_venv(&paths, &version)?;
        write_stamp(&paths.venv, &venv_stamp)?;
    }

    // The stubs depend on the protos and on grpcio-tools (part of the venv stamp).
    let mut stub_input = venv_stamp.into_bytes();
    for proto in proto_files(&paths.proto)? {
        stub_input.extend_from_slice(proto.to_string_lossy().as_bytes());
        stub_input
            .extend(fs::read(&proto).with_context(|| format!("cannot read {}", proto.display()))?);
    }
    let stub_stamp = format!("{:016x}", fnv1a64(&stub_input));
    if read_stamp(&paths.gen_dir).as_deref() == Some(stub_stamp.as_str()) {
        eprintln!(
            "python baseline: stubs up to date ({})",
            paths.gen_dir.display()
        );
    } else {
        generate_stubs(&paths)?;
        write_stamp(&paths.gen_dir, &stub_stamp)?;
    }
    Ok(())
}

/// `Python 3.x.y` of the system interpreter; fails unless it is 3.11 or 3.12 (the baseline
/// uses `audioop`, removed in 3.13).
fn system_python_version() -> anyhow::Result<String> {
    let output = Command::new(SYSTEM_PYTHON)
        .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
        .output()
        .with_context(|| {
            format!("cannot run `{SYSTEM_PYTHON}`: the Python baseline needs Python 3.11")
        })?;
    if !output.status.success() {
        bail!("`{SYSTEM_PYTHON}` failed with {}", output.status);
    }
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let minor: Option<u32> = version
        .strip_prefix("3.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|minor| minor.parse().ok());
    match minor {
        Some(11 | 12) => Ok(version),
        _ => bail!(
            "`{SYSTEM_PYTHON}` is Python {version}; the Python baseline needs 3.11 or 3.12 \
             (it uses `audioop`, removed in 3.13)"
        ),
    }
}

fn build_venv(paths: &Paths, version: &str) -> anyhow::Result<()> {
    eprintln!("python baseline: creating the venv with Python {version}");
    if paths.venv.exists() {
        fs::remove_dir_all(&paths.venv)
            .with_context(|| format!("cannot remove the stale venv {}", paths.venv.display()))?;
    }
    let venv = path_arg(&paths.venv)?;
    sh::run(SYSTEM_PYTHON, &["-m", "venv", venv])?;
    let python = path_arg(&paths.python)?;
    let requirements = path_arg(&paths.requirements)?;
    sh::run(
        python,
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--requirement",
            requirements,
        ],
    )
}

/// The `.proto` files of `dir`, sorted.
fn proto_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut protos = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "proto") {
            protos.push(path);
        }
    }
    protos.sort();
    if protos.is_empty() {
        bail!("no .proto files in {}", dir.display());
    }
    Ok(protos)
}

/// Generates the Python stubs into a fresh folder, then moves it into place.
fn generate_stubs(paths: &Paths) -> anyhow::Result<()> {
    eprintln!(
        "python baseline: generating stubs into {}",
        paths.gen_dir.display()
    );
    let fresh = paths.gen_dir.with_extension("new");
    if fresh.exists() {
        fs::remove_dir_all(&fresh)?;
    }
    fs::create_dir_all(&fresh).with_context(|| format!("cannot create {}", fresh.display()))?;
    let include = format!("--proto_path={}", path_arg(&paths.proto)?);
    let python_out = format!("--python_out={}", path_arg(&fresh)?);
    let grpc_out = format!("--grpc_python_out={}", path_arg(&fresh)?);
    let protos = proto_files(&paths.proto)?;
    let mut args = vec!["-m", "grpc_tools.protoc", &include, &python_out, &grpc_out];
    for proto in &protos {
        args.push(path_arg(proto)?);
    }
    sh::run(path_arg(&paths.python)?, &args)?;
    if paths.gen_dir.exists() {
        fs::remove_dir_all(&paths.gen_dir)?;
    }
    fs::rename(&fresh, &paths.gen_dir)
        .with_context(|| format!("cannot move the stubs to {}", paths.gen_dir.display()))
}

fn read_stamp(dir: &Path) -> Option<String> {
    fs::read_to_string(dir.join(STAMP_FILE))
        .ok()
        .map(|stamp| stamp.trim().to_owned())
}

fn write_stamp(dir: &Path, stamp: &str) -> anyhow::Result<()> {
    let path = dir.join(STAMP_FILE);
    fs::write(&path, format!("{stamp}\n"))
        .with_context(|| format!("cannot write {}", path.display()))
}

fn path_arg(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("path is not UTF-8: {}", path.display()))
}

/// 64-bit FNV-1a: a stable fingerprint of build inputs (not a security hash).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Starts the Python baseline on 127.0.0.1:`port` (0: a free port) in `mode`, after
/// [`ensure_venv`], and waits until it serves.
///
/// # Errors
/// When the venv is missing, the server cannot start, exits, or does not serve within 60 s.
pub(crate) fn start_baseline(port: u16, mode: Mode) -> anyhow::Result<ServerProcess> {
    let paths = Paths::new();
    if !paths.python.is_file() || !paths.gen_dir.join("voicevirtualagent_pb2.py").is_file() {
        bail!("the Python baseline is not set up: call ensure_venv() first");
    }
    let mut command = Command::new(&paths.python);
    command
        .arg(paths.scripts.join("baseline_server.py"))
        .args(["--mode", mode.as_arg(), "--host", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        .arg("--gen-dir")
        .arg(&paths.gen_dir)
        // Unbuffered, so the ready line arrives at once.
        .env("PYTHONUNBUFFERED", "1")
        // No __pycache__ in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1");
    ServerProcess::spawn("python baseline", command, START_TIMEOUT)
}

/// Runs the smoke client (`xtask/python/smoke_client.py`): one scripted call against the
/// demo-agent server at `addr` in `mode`, every message checked. Works against both servers.
///
/// # Errors
/// When the venv is missing or the call breaks a rule.
pub(crate) fn smoke(addr: SocketAddr, mode: Mode) -> anyhow::Result<()> {
    let paths = Paths::new();
    let script = paths.scripts.join("smoke_client.py");
    let gen_dir = path_arg(&paths.gen_dir)?;
    sh::run_env(
        path_arg(&paths.python)?,
        &[
            path_arg(&script)?,
            "--target",
            &addr.to_string(),
            "--mode",
            mode.as_arg(),
            "--gen-dir",
            gen_dir,
        ],
        &[("PYTHONDONTWRITEBYTECODE", "1")],
    )
}

/// A server child process that printed its ready line; stopped (SIGTERM, then SIGKILL after
/// the grace period) when dropped. Its stdout is forwarded to stderr, prefixed with its name.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    name: &'static str,
    child: Option<Child>,
    ready_line: String,
    grace: Duration,
}

impl ServerProcess {
    /// Spawns `command` with stdout piped and waits up to `timeout` for a stdout line starting
    /// with `listening on `.
    ///
    /// # Errors
    /// When it cannot start, exits first, or stays silent past `timeout` (it is killed then).
    pub(crate) fn spawn(
        name: &'static str,
        mut command: Command,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        command.stdout(Stdio::piped()).stdin(Stdio::null());
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start the {name}: {command:?}"))?;
        let stdout = child.stdout.take().context("child stdout not piped")?;
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name(format!("{name} stdout"))
            .spawn(move || {
                let mut ready_tx = Some(ready_tx);
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if ready_tx.is_some() && line.starts_with(READY_MARKER) {
                        if let Some(tx) = ready_tx.take() {
                            // The receiver may have given up (timeout); nothing to do then.
                            let _ = tx.send(line);
                        }
                    } else {
                        eprintln!("[{name}] {line}");
                    }
                }
            })
            .context("cannot start the stdout reader thread")?;
        let mut process = Self {
            name,
            child: Some(child),
            ready_line: String::new(),
            grace: STOP_GRACE,
        };
        match ready_rx.recv_timeout(timeout) {
            Ok(line) => {
                process.ready_line = line;
                Ok(process)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Stdout closed before the ready line: the process is gone (or going).
                let status = process.wait_exit(Duration::from_secs(5));
                bail!("the {name} exited before serving ({status})");
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                drop(process.stop_now());
                bail!(
                    "the {name} did not print `{READY_MARKER}…` within {} s",
                    timeout.as_secs_f32()
                );
            }
        }
    }

    /// Sets how long [`stop`](Self::stop) waits after SIGTERM before it kills.
    #[cfg(test)]
    pub(crate) fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The ready line, as printed.
    #[cfg(test)]
    pub(crate) fn ready_line(&self) -> &str {
        &self.ready_line
    }

    /// The address of a `listening on HOST:PORT` ready line.
    pub(crate) fn ready_addr(&self) -> anyhow::Result<SocketAddr> {
        parse_ready_line(&self.ready_line)
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// CPU time used so far (user + system, all threads).
    pub(crate) fn cpu_time(&self) -> anyhow::Result<Duration> {
        process_cpu_time(self.pid())
    }

    /// Resident set size, in bytes.
    pub(crate) fn rss_bytes(&self) -> anyhow::Result<u64> {
        process_rss_bytes(self.pid())
    }

    /// Sends SIGTERM, waits up to the grace period for the process to exit, then kills it.
    /// Returns how it ended.
    pub(crate) fn stop(mut self) -> anyhow::Result<ExitStatus> {
        self.stop_now()
    }

    /// Like [`stop`](Self::stop); fails unless it exited successfully.
    pub(crate) fn stop_cleanly(self) -> anyhow::Result<()> {
        let name = self.name;
        let status = self.stop()?;
        if !status.success() {
            bail!("the {name} ended with {status} when stopped");
        }
        Ok(())
    }

    fn stop_now(&mut self) -> anyhow::Result<ExitStatus> {
        let Some(child) = self.child.as_mut() else {
            bail!("the {} was already stopped", self.name);
        };
        if let Some(status) = child.try_wait()? {
            self.child = None;
            return Ok(status);
        }
        let pid = child.id().to_string();
        // std has no signals but kill(): SIGTERM through kill(1).
        let termed = Command::new("kill")
            .args(["-TERM", &pid])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        let deadline = Instant::now() + if termed { self.grace } else { Duration::ZERO };
        loop {
            if let Some(status) = child.try_wait()? {
                self.child = None;
                return Ok(status);
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "[{}] still running {} s after SIGTERM; killing it",
            self.name,
            self.grace.as_secs_f32()
        );
        child.kill().context("cannot kill the server")?;
        let status = child.wait()?;
        self.child = None;
        Ok(status)
    }

    /// Waits up to `timeout` for an exit; describes the outcome.
    fn wait_exit(&mut self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        while let Some(child) = self.child.as_mut() {
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.child = None;
                    return status.to_string();
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    drop(self.stop_now());
                    return "it closed its stdout and was stopped".to_owned();
                }
            }
        }
        "exited".to_owned()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.child.is_some()
            && let Err(err) = self.stop_now()
        {
            eprintln!("[{}] cannot stop: {err:#}", self.name);
        }
    }
}

/// The address of `listening on HOST:PORT` (`[v6]:PORT` for IPv6).
fn parse_ready_line(line: &str) -> anyhow::Result<SocketAddr> {
    let addr = line
        .strip_prefix(READY_MARKER)
        .with_context(|| format!("not a ready line: {line:?}"))?;
    addr.trim()
        .parse()
        .with_context(|| format!("bad address in the ready line {line:?}"))
}

/// CPU time process `pid` has used (user + system, summed over its threads), from
/// `/proc/<pid>/stat`.
///
/// # Errors
/// When the process does not exist or the file cannot be parsed.
pub(crate) fn process_cpu_time(pid: u32) -> anyhow::Result<Duration> {
    stat_cpu_time(&format!("/proc/{pid}/stat"), OWN_CPU_FIELD)
}

/// CPU time (user + system) of this process's children that have exited and been waited for,
/// from `/proc/self/stat`: after `byova simulate` exits, it includes the load generator's.
///
/// # Errors
/// When the file cannot be read or parsed.
pub(crate) fn children_cpu_time() -> anyhow::Result<Duration> {
    stat_cpu_time("/proc/self/stat", CHILDREN_CPU_FIELD)
}

/// utime, stime: the first of the two CPU-time fields of `/proc/<pid>/stat` for the process.
const OWN_CPU_FIELD: usize = 14;
/// cutime, cstime: the same for its waited-for children.
const CHILDREN_CPU_FIELD: usize = 16;

/// The sum of fields `field` and `field + 1` of the stat file at `path`, as CPU time.
fn stat_cpu_time(path: &str, field: usize) -> anyhow::Result<Duration> {
    let stat = fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let ticks =
        parse_stat_cpu_ticks(&stat, field).with_context(|| format!("cannot parse {path}"))?;
    let per_second = clock_ticks_per_second();
    Ok(Duration::from_secs(ticks / per_second)
        + Duration::from_nanos((ticks % per_second) * 1_000_000_000 / per_second))
}

/// Resident set size of process `pid` in bytes (`VmRSS` of `/proc/<pid>/status`).
///
/// # Errors
/// When the process does not exist or has no `VmRSS` (a zombie).
pub(crate) fn process_rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    parse_status_rss(&status).with_context(|| format!("no VmRSS in {path}"))
}

/// Fields `field` and `field + 1` of a `/proc/<pid>/stat` line added up, in clock ticks: utime +
/// stime for [`OWN_CPU_FIELD`], cutime + cstime for [`CHILDREN_CPU_FIELD`].
fn parse_stat_cpu_ticks(stat: &str, field: usize) -> Option<u64> {
    // Field 2 (the command name) is in parentheses and may contain spaces and parentheses:
    // the fields after it start after the last ')'. They begin with field 3 (state).
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(field.checked_sub(3)?);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// `VmRSS:   1234 kB` of a `/proc/<pid>/status` file, in bytes.
fn parse_status_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") => Some(value * 1024),
        _ => None,
    }
}

/// Clock ticks per second (`getconf CLK_TCK`; 100, the Linux value, if that fails).
fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .filter(|output| output.status.success())
            .and_then(|output| String::from_utf8_lossy(&output.stdout).trim().parse().ok())
            .filter(|&ticks| ticks > 0)
            .unwrap_or(100)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh_server(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn stat_fields_are_read_after_the_command_name() {
        // The name contains a space and a parenthesis; utime 1234, stime 567, cutime 89,
        // cstime 11.
        let stat = "4242 (py (x) srv) S 1 4242 4242 0 -1 4194560 9000 0 0 0 1234 567 89 11 20 0 \
                    5 0 100 600000000 10000 18446744073709551615";
        assert_eq!(parse_stat_cpu_ticks(stat, OWN_CPU_FIELD), Some(1801));
        assert_eq!(parse_stat_cpu_ticks(stat, CHILDREN_CPU_FIELD), Some(100));
        assert_eq!(
            parse_stat_cpu_ticks("4242 (cut short) S 1 2", OWN_CPU_FIELD),
            None
        );
    }

    #[test]
    fn rss_is_read_in_bytes() {
        let status = "Name:\tpython\nVmPeak:\t  999 kB\nVmRSS:\t   41056 kB\nThreads:\t5\n";
        assert_eq!(parse_status_rss(status), Some(41056 * 1024));
        assert_eq!(parse_status_rss("Name:\tzombie\n"), None);
    }

    #[test]
    fn own_process_is_measured() {
        let pid = std::process::id();
        let rss = process_rss_bytes(pid).unwrap();
        assert!(rss > 1024 * 1024, "rss {rss}");
        let before = process_cpu_time(pid).unwrap();
        // Burn at least two clock ticks of CPU.
        let start = process_cpu_time(pid).unwrap();
        let mut x = 0u64;
        while process_cpu_time(pid).unwrap() < start + Duration::from_millis(30) {
            for i in 0..100_000u64 {
                x = std::hint::black_box(x.wrapping_add(i * i));
            }
        }
        assert!(process_cpu_time(pid).unwrap() >= before + Duration::from_millis(30));
        assert!(process_cpu_time(u32::MAX).is_err());
    }

    #[test]
    fn finished_children_are_counted() {
        let before = children_cpu_time().unwrap();
        // A child that burns well over 50 ms of CPU, then is waited for.
        let status = Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i + 1)); done"])
            .status()
            .unwrap();
        assert!(status.success());
        let after = children_cpu_time().unwrap();
        assert!(
            after >= before + Duration::from_millis(50),
            "{before:?} → {after:?}"
        );
    }

    #[test]
    fn fingerprint_is_fnv1a() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn ready_lines_give_the_address() {
        assert_eq!(
            parse_ready_line("listening on 127.0.0.1:50051").unwrap(),
            "127.0.0.1:50051".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            parse_ready_line("listening on [::1]:7").unwrap(),
            "[::1]:7".parse::<SocketAddr>().unwrap()
        );
        assert!(parse_ready_line("listening on nowhere").is_err());
        assert!(parse_ready_line("ready").is_err());
    }

    #[test]
    fn server_process_waits_for_ready_and_stops_on_sigterm() {
        // The trap is set before the ready line, so the SIGTERM sent after it always meets it.
        let script = "trap 'echo bye; exit 3' TERM; echo starting; \
                      echo 'listening on 127.0.0.1:4242'; while :; do sleep 0.05; done";
        let process =
            ServerProcess::spawn("test server", sh_server(script), Duration::from_secs(30))
                .unwrap();
        assert_eq!(process.ready_line(), "listening on 127.0.0.1:4242");
        assert_eq!(
            process.ready_addr().unwrap(),
            "127.0.0.1:4242".parse::<SocketAddr>().unwrap()
        );
        let pid = process.pid();
        assert!(process.rss_bytes().unwrap() > 0);
        process.cpu_time().unwrap();
        // The trap ran: SIGTERM, not SIGKILL, ended it.
        let status = process.stop().unwrap();
        assert_eq!(status.code(), Some(3));
        assert!(
            process_rss_bytes(pid).is_err(),
            "process {pid} still exists"
        );
    }

    #[test]
    fn server_ignoring_sigterm_is_killed_after_the_grace_period() {
        let script = "trap '' TERM; echo 'listening on 127.0.0.1:1'; while :; do sleep 0.05; done";
        let process = ServerProcess::spawn(
            "stubborn server",
            sh_server(script),
            Duration::from_secs(30),
        )
        .unwrap()
        .with_grace(Duration::from_millis(200));
        let status = process.stop().unwrap();
        assert_eq!(status.code(), None, "{status}");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
    }

    #[test]
    fn server_exiting_before_ready_is_an_error() {
        let err = ServerProcess::spawn(
            "failing server",
            sh_server("echo 'cannot bind' >&2; exit 7"),
            Duration::from_secs(30),
        )
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("exited before serving"), "{message}");
        assert!(message.contains('7'), "{message}");
    }

    #[test]
    fn silent_server_is_stopped_after_the_timeout() {
        let pid_file = tempfile::NamedTempFile::new().unwrap();
        let script = format!("echo $$ > {}; exec sleep 600", pid_file.path().display());
        let err = ServerProcess::spawn(
            "silent server",
            sh_server(&script),
            Duration::from_millis(500),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("did not print"), "{err:#}");
        // On a very busy machine the shell may not have run yet when it was killed: no pid then.
        let written = fs::read_to_string(pid_file.path()).unwrap();
        if let Ok(pid) = written.trim().parse::<u32>() {
            assert!(
                process_rss_bytes(pid).is_err(),
                "process {pid} still exists"
            );
        }
    }

    #[test]
    fn modes_map_to_the_server_flag() {
        assert_eq!(Mode::Wav.as_arg(), "wav");
        assert_eq!(Mode::Chunk.as_arg(), "chunk");
    }
}
