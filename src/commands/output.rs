//! Where a command's results go: the human text on stdout; or, with `--json`, one JSON object
//! per run on stdout (one line each, the fields of the run's CSV row) and the human text on
//! stderr, so that `herd run --json | jq` reads only JSON and the summary stays in sight.
use crate::Error;
use serde::Serialize;

#[derive(Debug, Clone, Copy, Default)]
pub struct Output {
    pub json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    /// Human text: stdout, or stderr under `--json`.
    pub fn text(&self, s: &str) {
        if self.json {
            eprint!("{s}");
        } else {
            print!("{s}");
        }
    }

    /// One run's JSON object on its own line, under `--json` only.
    pub fn object<T: Serialize>(&self, v: &T) -> Result<(), Error> {
        if self.json {
            let line = serde_json::to_string(v)
                .map_err(|e| Error::Run(format!("--json: cannot encode the result: {e}")))?;
            println!("{line}");
        }
        Ok(())
    }
}
