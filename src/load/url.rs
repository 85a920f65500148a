//! `--url http://HOST[:PORT][/PATH]`: what `herd load` connects to and what it asks for.
use crate::Error;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub addr: SocketAddr,
    /// The `Host` header: the URL's authority as written.
    pub host: String,
    /// The request target, starting with `/`.
    pub path: String,
}

fn bad(url: &str, why: &str) -> Error {
    Error::Usage(format!(
        "--url {url}: {why} (expected http://HOST[:PORT][/PATH])"
    ))
}

/// Split a URL into host, port and path, without resolving.
pub fn split(url: &str) -> Result<(String, u16, String, String), Error> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad(url, "only plain http:// is supported"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(bad(url, "no host (or user info, which is not supported)"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| bad(url, "unclosed [ in the host"))?;
        match after.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if after.is_empty() => (h, None),
            None => return Err(bad(url, "junk after the IPv6 address")),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| bad(url, "the port is not 1 to 65535"))?,
        None => 80,
    };
    if host.is_empty() {
        return Err(bad(url, "no host"));
    }
    Ok((host.to_string(), port, authority.to_string(), path))
}

/// Parse and resolve `url` (IPv4 preferred), then check that something accepts connections
/// there: an unreachable server is the user's to fix, reported before any load starts.
pub fn resolve(url: &str) -> Result<Target, Error> {
    let (host, port, authority, path) = split(url)?;
    let addrs: Vec<SocketAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| bad(url, &format!("cannot resolve {host}: {e}")))?
        .collect();
    let addr = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| bad(url, &format!("{host} has no address")))?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .map_err(|e| Error::Usage(format!("--url {url}: cannot connect to {addr}: {e}")))?;
    Ok(Target {
        addr,
        host: authority,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_host_port_and_path() {
        let s = |u: &str| split(u).ok();
        assert_eq!(
            s("http://127.0.0.1:8080/x/y?z=1"),
            Some((
                "127.0.0.1".into(),
                8080,
                "127.0.0.1:8080".into(),
                "/x/y?z=1".into()
            ))
        );
        assert_eq!(
            s("http://localhost"),
            Some(("localhost".into(), 80, "localhost".into(), "/".into()))
        );
        assert_eq!(
            s("http://[::1]:81/"),
            Some(("::1".into(), 81, "[::1]:81".into(), "/".into()))
        );
        assert_eq!(
            s("http://h?q"),
            Some(("h".into(), 80, "h".into(), "/?q".into()))
        );
        for bad in [
            "https://x/",
            "x:80",
            "http://",
            "http://h:0/",
            "http://h:99999",
            "http://[::1",
        ] {
            assert!(matches!(split(bad), Err(Error::Usage(_))), "{bad}");
        }
    }
}
