//! `herd load`'s request flags, as curl, wrk and oha spell them: `-m/--method`, `-H/--header`
//! (repeatable), `--body` or `--body-file`.
use crate::load::request::RequestSpec;
use crate::Error;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct RequestArgs {
    /// The request method (GET, POST, HEAD, ...). A HEAD response is read without a body.
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,
    /// A request header, `Name: value`; repeatable. A Host or User-Agent given here replaces
    /// herd's; Connection, Content-Length and Transfer-Encoding are herd's to set.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The request body, sent with a Content-Length.
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// The request body, read from FILE once before the load starts.
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
}

/// An HTTP token (RFC 9110 §5.6.2): what a method or a header name may be made of.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Headers herd sets itself: the connection's fate and the body's framing.
const RESERVED: &[&str] = &["connection", "content-length", "transfer-encoding"];

fn header(h: &str) -> Result<(String, String), Error> {
    let bad = |why: &str| Error::Usage(format!("--header {h:?}: {why}"));
    let (name, value) = h
        .split_once(':')
        .ok_or_else(|| bad("expected `Name: value`"))?;
    let (name, value) = (name.trim(), value.trim());
    if !is_token(name) {
        return Err(bad("not an HTTP header name"));
    }
    if RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r)) {
        return Err(bad(
            "herd sets this header itself (keep-alive: --requests-per-conn)",
        ));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(bad("a value may not hold CR, LF or NUL"));
    }
    Ok((name.to_string(), value.to_string()))
}

impl RequestArgs {
    /// The request these flags ask for, checked; `--body-file` is read here.
    pub fn spec(&self) -> Result<RequestSpec, Error> {
        if !is_token(&self.method) {
            return Err(Error::Usage(format!(
                "--method {:?}: not an HTTP method",
                self.method
            )));
        }
        let headers = self
            .headers
            .iter()
            .map(|h| header(h))
            .collect::<Result<_, _>>()?;
        let body = match (&self.body, &self.body_file) {
            (Some(b), _) => b.clone().into_bytes(),
            (None, Some(f)) => std::fs::read(f)
                .map_err(|e| Error::Usage(format!("--body-file {}: {e}", f.display())))?,
            (None, None) => Vec::new(),
        };
        Ok(RequestSpec {
            method: self.method.clone(),
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(method: &str, headers: &[&str]) -> RequestArgs {
        RequestArgs {
            method: method.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            body: None,
            body_file: None,
        }
    }

    #[test]
    fn headers_and_methods_are_checked_naming_the_flag() {
        let spec = args("POST", &["X-A: 1", "Accept:text/plain"])
            .spec()
            .unwrap();
        assert_eq!(
            spec.headers,
            [
                ("X-A".to_string(), "1".to_string()),
                ("Accept".to_string(), "text/plain".to_string())
            ]
        );
        for (m, h, needle) in [
            ("GE T", &[][..], "--method"),
            ("GET", &["NoColon"][..], "--header"),
            ("GET", &["Bad Name: x"][..], "not an HTTP header name"),
            ("GET", &["connection: close"][..], "herd sets"),
            ("GET", &["X: a\rb"][..], "CR, LF"),
        ] {
            let e = args(m, h).spec().unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains(needle), "{e}");
        }
        let mut missing = args("POST", &[]);
        missing.body_file = Some("/no/such/file".into());
        assert!(missing
            .spec()
            .unwrap_err()
            .to_string()
            .starts_with("--body-file /no/such/file"));
    }
}
