//! `herd report --format csv`: one row per cell, its condition first, then each figure as
//! `NAME_median`, `NAME_min`, `NAME_max` (empty where nothing was measured).
use super::Cell;
use crate::Error;
use serde_json::Value;

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn csv(cells: &[Cell]) -> Result<String, Error> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let err = |e: ::csv::Error| Error::Run(format!("--format csv: {e}"));
    if let Some(first) = cells.first() {
        let mut head: Vec<String> = first.info.iter().map(|(k, _)| k.to_string()).collect();
        for (k, _) in &first.figures {
            head.extend(["median", "min", "max"].map(|s| format!("{k}_{s}")));
        }
        w.write_record(&head).map_err(err)?;
    }
    for c in cells {
        let mut rec: Vec<String> = c.info.iter().map(|(_, v)| text(v)).collect();
        for (_, stat) in &c.figures {
            match stat {
                Some(s) => rec.extend([s.median, s.min, s.max].map(|v| v.to_string())),
                None => rec.extend([String::new(), String::new(), String::new()]),
            }
        }
        w.write_record(&rec).map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Run(format!("--format csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Run(format!("--format csv: {e}")))
}
