//! `herd report --format json`: `{"dir": DIR, "results": [cell, ...]}`, each cell its
//! condition's fields in order, then each figure as `{"median", "min", "max", "n"}` or null.
use super::Cell;
use crate::report::results::Results;
use crate::Error;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// A cell as a JSON object with its fields in their order.
struct Ordered<'a>(&'a Cell);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = s.serialize_map(Some(c.info.len() + c.figures.len()))?;
        for (k, v) in &c.info {
            m.serialize_entry(k, v)?;
        }
        for (k, stat) in &c.figures {
            let fig = stat.map(|s| Figure {
                median: s.median,
                min: s.min,
                max: s.max,
                n: s.n,
            });
            m.serialize_entry(k, &fig)?;
        }
        m.end()
    }
}

/// One figure over a cell's repeats.
#[derive(Serialize)]
struct Figure {
    median: f64,
    min: f64,
    max: f64,
    n: usize,
}

#[derive(Serialize)]
struct Doc<'a> {
    dir: String,
    results: Vec<Ordered<'a>>,
}

pub fn json(results: &Results, cells: &[Cell]) -> Result<String, Error> {
    let doc = Doc {
        dir: results.dir.display().to_string(),
        results: cells.iter().map(Ordered).collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|e| Error::Run(format!("--format json: {e}")))?;
    text.push('\n');
    Ok(text)
}
