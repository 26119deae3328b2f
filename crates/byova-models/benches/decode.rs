//! Decoding a 100-item `GET /dataSources/` page (and encoding one data source back).
//!
//! `cargo bench -p byova-models --bench decode`

#![allow(missing_docs)]

use std::hint::black_box;

use byova_models::{DataSource, ItemList};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;

fn page(items: usize) -> Vec<u8> {
    let items: Vec<_> = (0..items)
        .map(|i| {
            json!({
                "id": format!("85895e47-3096-4c47-aae8-{i:012}"),
                "schemaId": "5397013b-7920-4ffc-807c-e8a3e0a18f43",
                "orgId": "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi82M2IwMmY5MC0wYmU0LTRiNDMtOWU3OC1jYWQ0MjVhYzU1NGM",
                "applicationId": "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL3NhLWlk",
                "url": format!("https://va{i}.example.com:443"),
                "audience": "BYOVAGateway",
                "subject": "callAudioData",
                "nonce": "3f1c7e2a-6d0b-4f3e-9a1c-2b7d8e9f0a1b",
                "status": if i % 10 == 0 { "disabled" } else { "active" },
                "jwsToken": "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJCWU9WQUdhdGV3YXkiLCJzdWIiOiJjYWxsQXVkaW9EYXRhIiwiY29tLmNpc2NvLmRhdGFzb3VyY2UudXJsIjoiaHR0cHM6Ly92YS5leGFtcGxlLmNvbTo0NDMifQ.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl",
                "tokenLifetimeMinutes": 1440,
                "tokenExpiryTime": "2025-06-02T12:00:00.123Z",
                "createdBy": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hZG1pbg",
                "createdAt": "2025-06-01T12:00:00.123Z",
                "errorMessage": if i % 10 == 0 { "maintenance" } else { "" },
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "items": items })).expect("serialises")
}

fn bench(c: &mut Criterion) {
    let body = page(100);
    let mut group = c.benchmark_group("data_source_page");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("decode_100_items", |b| {
        b.iter(|| {
            let page: ItemList<DataSource> =
                serde_json::from_slice(black_box(&body)).expect("decodes");
            assert_eq!(page.items.len(), 100);
            page
        });
    });
    let page: ItemList<DataSource> = serde_json::from_slice(&body).expect("decodes");
    group.bench_function("encode_100_items", |b| {
        b.iter(|| serde_json::to_vec(black_box(&page)).expect("encodes"));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
