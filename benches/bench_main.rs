mod series;
criterion::criterion_group!(series_benches, series::benches);
criterion::criterion_main!(series_benches);
