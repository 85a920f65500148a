//! Every machine-readable form parses, with the fields its schema names (docs/json-schema.md):
//! `--json` on run, load, merge, series, order and chaos (one object per run on stdout, the
//! human text on stderr), and `herd report --format md|csv|json`.
mod common;
use common::*;
use serde_json::Value;
use std::time::Duration;

/// stdout as JSON lines; the command must succeed, and stderr holds the human text.
fn json_lines(args: &[&str]) -> (Vec<Value>, String) {
    let out = herd_output(args, Duration::from_secs(120));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "herd {args:?}: {err}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let objects = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (objects, err)
}

fn stdout_of(args: &[&str]) -> String {
    let out = herd_output(args, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "herd {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn run_and_load_rows_merge_and_report_in_every_form() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let mut run_ids = Vec::new();
    for strategy in ["blocking", "sysv-sem"] {
        let (rows, summary) = json_lines(&[
            "run",
            "--strategy",
            strategy,
            "--workers",
            "2",
            "-c",
            "4",
            "-d",
            "300ms",
            "--warmup",
            "0s",
            "--out",
            out,
            "--json",
        ]);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        // The same fields as the CSV row, with the same values.
        let csv = csv_rows(&dir.path().join("runs.csv"));
        let last = csv.last().unwrap();
        for k in [
            "run_id",
            "strategy",
            "requests_ok",
            "conn_per_s",
            "status_2xx",
        ] {
            let j = match &r[k] {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            assert_eq!(j, last[k], "{k}");
        }
        assert_eq!(r.as_object().unwrap().len(), last.len(), "field count");
        assert_eq!(r["status_2xx"], r["requests_ok"]);
        assert!(summary.contains("accepted (server)"), "{summary}");
        run_ids.push(r["run_id"].as_str().unwrap().to_string());
    }
    // merge: one object with a row per metric.
    let hlog = |id: &str| format!("{out}/hist/{id}.hlog");
    let (merged, table) = json_lines(&["merge", &hlog(&run_ids[0]), "--json"]);
    assert_eq!(merged.len(), 1);
    let metrics = merged[0]["metrics"].as_array().unwrap();
    let latency = metrics.iter().find(|m| m["metric"] == "latency").unwrap();
    assert!(latency["count"].as_u64().unwrap() > 0 && latency["p99_us"].is_number());
    assert!(table.contains("p99.9_us"), "{table}");
    // report: Markdown, CSV and JSON of the same cells.
    let md = stdout_of(&["report", out]);
    assert!(md.contains("| strategy | runs |"), "{md}");
    let csv_text = stdout_of(&["report", out, "--format", "csv"]);
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let head = rd.headers().unwrap().clone();
    assert!(head.iter().any(|h| h == "conn_per_s_median"), "{head:?}");
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2, "{csv_text}");
    let json_text = stdout_of(&["report", out, "--format", "json"]);
    // Each cell's fields in the documented order: its condition first, the figures last.
    let at = |k: &str| json_text.find(&format!("\"{k}\":")).unwrap();
    assert!(at("condition") < at("strategy") && at("strategy") < at("conn_per_s"));
    let doc: Value = serde_json::from_str(&json_text).unwrap();
    let cells = doc["results"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    let strategies: Vec<&str> = cells
        .iter()
        .map(|c| c["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(strategies, ["blocking", "sysv-sem"]);
    for c in cells {
        assert_eq!(c["runs"], 1);
        assert_eq!(c["workers"], 2);
        assert!(c["conn_per_s"]["median"].as_f64().unwrap() > 0.0, "{c}");
        assert!(c["wakeups_per_accept"]["n"] == 1);
    }
}

#[test]
fn series_order_and_chaos_print_one_object_per_run() {
    let (series, text) = json_lines(&["series", "--x", "1", "--terms", "8", "--json"]);
    assert_eq!(series.len(), 1);
    assert_eq!(series[0]["terms"], 8);
    assert!(series[0]["rel_error"].as_f64().unwrap() < 1e-3);
    assert!(text.contains("converged"), "{text}");

    let (order, table) = json_lines(&[
        "order",
        "--strategy",
        "blocking",
        "--workers",
        "2",
        "--connections",
        "4",
        "--gap",
        "5ms",
        "--json",
    ]);
    assert_eq!(order.len(), 1);
    assert_eq!(order[0]["strategy"], "blocking");
    assert_eq!(order[0]["order"].as_array().unwrap().len(), 4);
    assert!(order[0]["verdict"].is_string());
    assert!(table.contains("verdict"), "{table}");

    let (chaos, table) = json_lines(&[
        "chaos",
        "--strategy",
        "blocking",
        "--workers",
        "2",
        "--schedule",
        "kill:100ms",
        "-d",
        "300ms",
        "--baseline",
        "200ms",
        "-c",
        "4",
        "--json",
    ]);
    assert_eq!(chaos.len(), 1);
    assert_eq!(chaos[0]["fault"], "kill");
    assert!(chaos[0]["faults_applied"].as_u64().unwrap() >= 1);
    assert!(chaos[0]["serving_after"].is_boolean());
    assert!(table.contains("strategy"), "{table}");
}
