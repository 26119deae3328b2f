//! A writer killed with SIGKILL at random points leaves the token file whole: old or new content,
//! never a torn mix.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use byova_auth::storage::{FileTokenStorage, TokenStorage};
use byova_models::{OAuthTokens, OrgId};
use time::macros::datetime;

use crate::support::fs::file_names;

/// Set in the child: the path it writes to in a loop.
const CHILD_ENV: &str = "BYOVA_AUTH_SIGKILL_WRITER";
/// This test's name, for re-running the test binary as the child.
const TEST_NAME: &str = "file_sigkill::sigkill_mid_write_leaves_old_or_new_content";
/// Size of each generation's access token, so that writes take long enough to be interrupted.
const PADDING: usize = 256 * 1024;
const ORGS: u32 = 12;
const KILLS: usize = 30;

fn org(i: u32) -> OrgId {
    format!("00000000-0000-4000-8000-{i:012}")
        .parse()
        .expect("org")
}

fn generation_tokens(generation: u64) -> OAuthTokens {
    let mut access = format!("gen-{generation:010}-");
    access.extend(std::iter::repeat_n('x', PADDING));
    OAuthTokens::new(access, 3600, datetime!(2025-01-01 00:00 UTC))
}

/// Checks a whole file and returns its generation.
fn check_whole(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("the token file exists");
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|error| panic!("torn token file ({} bytes): {error}", bytes.len()));
    let access = json["integration"]["access_token"]
        .as_str()
        .expect("integration token");
    let (prefix, padding) = access.split_at(15);
    assert_eq!(padding.len(), PADDING, "padding cut short");
    assert!(padding.bytes().all(|b| b == b'x'), "padding corrupted");
    let orgs = json["serviceApps"].as_object().expect("serviceApps");
    assert_eq!(
        orgs.len(),
        ORGS as usize,
        "orgs written before the kills were lost"
    );
    prefix["gen-".len()..14].parse().expect("generation number")
}

fn child_writer(path: PathBuf) -> ! {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = FileTokenStorage::new(&path);
        let mut generation = check_whole(&path);
        loop {
            generation += 1;
            store
                .set_integration_tokens(&generation_tokens(generation))
                .await
                .expect("child write");
        }
    })
}

#[test]
fn sigkill_mid_write_leaves_old_or_new_content() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        child_writer(PathBuf::from(path));
    }
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("tokens.json");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = FileTokenStorage::new(&path);
    runtime.block_on(async {
        for i in 0..ORGS {
            store
                .set_service_app_tokens(&org(i), &generation_tokens(0))
                .await
                .expect("seed org");
        }
        store
            .set_integration_tokens(&generation_tokens(0))
            .await
            .expect("seed");
    });

    let exe = std::env::current_exe().expect("test binary");
    let mut last = check_whole(&path);
    for _ in 0..KILLS {
        let mut child = Command::new(&exe)
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn writer");
        // Wait (with a deadline) until the child has completed at least one write ...
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let generation = check_whole(&path);
            if generation > last {
                break;
            }
            assert!(Instant::now() < deadline, "the writer never wrote");
            if let Some(status) = child.try_wait().expect("try_wait") {
                panic!("the writer exited early: {status}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        // ... then kill it at a random point of a later write.
        std::thread::sleep(Duration::from_micros(fastrand::u64(0..20_000)));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        let generation = check_whole(&path);
        assert!(generation >= last, "went back from {last} to {generation}");
        last = generation;
    }

    // A kill between creating and renaming a temporary file leaves it behind; the next write
    // under the lock removes it.
    runtime.block_on(async {
        store
            .set_service_app_tokens(&org(0), &generation_tokens(last))
            .await
            .expect("write after kills");
    });
    assert_eq!(file_names(dir.path()), ["tokens.json", "tokens.json.lock"]);
    assert!(check_whole(&path) >= last);
}
