//! Wall-time throughput (criterion) of the configurations `bench/icount` counts
//! instructions for. Secondary figure: instructions (bash bench/callgrind.sh) are the
//! primary one, since wall time on a shared 2-core machine varies from run to run.
//!
//! Groups:
//! - `framer-full/<size> streams`: the framer on 1 MiB of full ESP-AT traffic cut into
//!   streams of 1 KiB, 64 KiB or one 1 MiB stream, per read size;
//! - `compat-64KiB`: the framer (one `feed` loop per read), the framer behind
//!   `Client::read_chunk`'s batched reads (`client`) and atat's `AtDigester` (behind atat's
//!   ingress loop) on the same 64 KiB of atat-compatible traffic, per read size.
//!
//! `cargo bench --bench framer` runs all (~2 minutes); `-- compat` runs one group.

mod common;

use common::{generate, run, segments, verify, Imp, StreamKind, READ_SIZES, STREAM_SIZES};
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use std::hint::black_box;
use std::time::Duration;

fn size_name(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{}MiB", n >> 20)
    } else {
        format!("{}KiB", n >> 10)
    }
}

fn framer_full(c: &mut Criterion) {
    let stream = generate(StreamKind::Full, 1 << 20);
    for size in STREAM_SIZES {
        let segs = segments(&stream, size);
        let out = run(Imp::Framer, &stream.bytes, &segs, 1024);
        verify(Imp::Framer, &stream, &out).expect("framer frames the stream");
        let mut g = c.benchmark_group(format!("framer-full/{} streams", size_name(size)));
        g.throughput(Throughput::Bytes(stream.bytes.len() as u64));
        for read in READ_SIZES {
            g.bench_with_input(BenchmarkId::new("read", read), &read, |b, &read| {
                b.iter(|| run(Imp::Framer, black_box(&stream.bytes), &segs, read))
            });
        }
        g.finish();
    }
}

fn compat(c: &mut Criterion) {
    let stream = generate(StreamKind::Compat, 64 << 10);
    let segs = segments(&stream, 64 << 10);
    let mut g = c.benchmark_group("compat-64KiB");
    g.throughput(Throughput::Bytes(stream.bytes.len() as u64));
    // atat at 1-byte reads takes a good fraction of a second per iteration.
    g.sampling_mode(SamplingMode::Flat);
    for imp in [Imp::Framer, Imp::Client, Imp::Driver, Imp::Atat] {
        for read in READ_SIZES {
            let out = run(imp, &stream.bytes, &segs, read);
            verify(imp, &stream, &out).expect("the stream is framed exactly");
            g.bench_with_input(
                BenchmarkId::new(imp.name(), format!("read {read}")),
                &read,
                |b, &read| b.iter(|| run(imp, black_box(&stream.bytes), &segs, read)),
            );
        }
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = framer_full, compat
}
criterion_main!(benches);
