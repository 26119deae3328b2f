//! `access_token()` with a valid cached token (1 and 2 threads) and file-store save latency.
//!
//! Run: `cargo bench -p byova-auth --bench tokens`.
//!
//! The threaded groups report per-call time two ways: `wall` (elapsed time of the slowest
//! thread) and `cpu` (CPU time of the busiest thread, from `/proc/thread-self/schedstat`, wall
//! time where that file is missing). On a shared machine the `cpu` figures are the fair
//! comparison: another process taking the CPU lengthens wall time but not CPU time, while
//! contention between our two threads (cache-line ping-pong, spinning) costs CPU time.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use byova_api::Client;
use byova_auth::storage::{FileTokenStorage, MemoryTokenStorage, TokenStorage};
use byova_auth::{IntegrationAuth, ServiceAppAuth};
use byova_models::{IntegrationCredentials, OAuthTokens, OrgId, ServiceAppCredentials};
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt as _;
use time::OffsetDateTime;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn tokens(access: &str) -> OAuthTokens {
    OAuthTokens::new(access, 1_209_600, OffsetDateTime::now_utc())
        .with_refresh_token("refresh", Some(7_776_000))
}

/// Managers whose tokens are stored and already cached (one call warms the cache).
fn warm_managers() -> (IntegrationAuth, ServiceAppAuth, OrgId) {
    let rt = runtime();
    let storage = Arc::new(MemoryTokenStorage::new());
    let org: OrgId = "63b02f90-0be4-4b43-9e78-cad425ac554c".parse().expect("org");
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("client");
    let integration = IntegrationAuth::builder(IntegrationCredentials::new("id", "secret"), client)
        .storage(storage.clone())
        .build();
    let service_apps = ServiceAppAuth::builder(
        ServiceAppCredentials::new("sa", "sa-secret"),
        integration.clone(),
    )
    .build();
    rt.block_on(async {
        storage
            .set_integration_tokens(&tokens("integration-access"))
            .await
            .expect("store");
        storage
            .set_service_app_tokens(&org, &tokens("service-app-access"))
            .await
            .expect("store");
        integration.access_token().await.expect("warm");
        service_apps.access_token(&org).await.expect("warm");
    });
    (integration, service_apps, org)
}

/// How a threaded run is timed.
#[derive(Clone, Copy)]
enum Timing {
    Wall,
    Cpu,
}

impl Timing {
    fn name(self) -> &'static str {
        match self {
            Self::Wall => "wall",
            Self::Cpu => "cpu",
        }
    }

    fn now(self) -> Option<Duration> {
        match self {
            Self::Wall => None,
            Self::Cpu => thread_cpu_time(),
        }
    }
}

/// CPU time of the calling thread (Linux: first field of `/proc/thread-self/schedstat`, ns).
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// `iters` calls on each of `threads` threads at once; returns the slowest thread's time.
fn on_threads(
    threads: usize,
    iters: u64,
    timing: Timing,
    call: impl Fn() + Send + Sync + 'static,
) -> Duration {
    let call = Arc::new(call);
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let call = Arc::clone(&call);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                let cpu_start = timing.now();
                for _ in 0..iters {
                    call();
                }
                match (cpu_start, timing.now()) {
                    (Some(begin), Some(end)) => end.saturating_sub(begin),
                    _ => start.elapsed(),
                }
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|handle| handle.join().expect("bench thread"))
        .max()
        .unwrap_or_default()
}

fn cached_access_token(c: &mut Criterion) {
    let (integration, service_apps, org) = warm_managers();
    for timing in [Timing::Wall, Timing::Cpu] {
        let mut group = c.benchmark_group(format!("access_token_cached_{}", timing.name()));
        // Long samples, so the scheduler's accounting granularity does not matter for `cpu`.
        group.sample_size(20);
        for threads in [1_usize, 2] {
            let (sa, sa_org) = (service_apps.clone(), org.clone());
            group.bench_function(format!("service_app/{threads}_threads"), move |b| {
                let (sa, sa_org) = (sa.clone(), sa_org.clone());
                b.iter_custom(move |iters| {
                    let (sa, sa_org) = (sa.clone(), sa_org.clone());
                    on_threads(threads, iters, timing, move || {
                        let token = sa
                            .access_token(black_box(&sa_org))
                            .now_or_never()
                            .expect("a cached token is ready at once")
                            .expect("token");
                        black_box(token);
                    })
                });
            });
            let int = integration.clone();
            group.bench_function(format!("integration/{threads}_threads"), move |b| {
                let int = int.clone();
                b.iter_custom(move |iters| {
                    let int = int.clone();
                    on_threads(threads, iters, timing, move || {
                        let token = int
                            .access_token()
                            .now_or_never()
                            .expect("a cached token is ready at once")
                            .expect("token");
                        black_box(token);
                    })
                });
            });
            // Calibration: cloning a token-sized secret, the floor of any call returning one. If
            // it slows down with 2 threads too, the machine (not the cache) is the bottleneck.
            group.bench_function(format!("baseline_secret_clone/{threads}_threads"), |b| {
                b.iter_custom(move |iters| {
                    let secret = byova_models::Secret::new("service-app-access");
                    on_threads(threads, iters, timing, move || {
                        black_box(black_box(&secret).clone());
                    })
                });
            });
        }
        group.finish();
    }
}

fn file_store_save(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("dir");
    let store = FileTokenStorage::new(dir.path().join("tokens.json"));
    let orgs: Vec<OrgId> = (0..10)
        .map(|i| {
            format!("00000000-0000-4000-8000-{i:012}")
                .parse()
                .expect("org")
        })
        .collect();
    rt.block_on(async {
        store
            .set_integration_tokens(&tokens("integration"))
            .await
            .expect("seed");
        for org in &orgs {
            store
                .set_service_app_tokens(org, &tokens("seed"))
                .await
                .expect("seed");
        }
    });
    let fresh = tokens("service-app-access");
    let mut group = c.benchmark_group("file_store");
    group.sample_size(30);
    group.bench_function("set_service_app_tokens/10_orgs", |b| {
        b.iter(|| {
            rt.block_on(store.set_service_app_tokens(&orgs[3], black_box(&fresh)))
                .expect("save");
        });
    });
    group.bench_function("service_app_tokens/10_orgs", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(store.service_app_tokens(&orgs[3]))
                    .expect("read"),
            );
        });
    });
    group.finish();
}

criterion_group!(benches, cached_access_token, file_store_save);
criterion_main!(benches);
