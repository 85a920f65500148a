//! Property tests of the load client's response reader over arbitrary bytes split at arbitrary
//! points: however the bytes arrive, [`Reader`] gives the same responses and faults, never
//! panics, and never holds more than [`MAX_HEAD`] bytes of a response it is still waiting on;
//! well-formed responses (lengths, chunks, interim 1xx heads, a body to the close) are read
//! whole, with their status. Case counts are fixed, so the time in CI is bounded;
//! `PROPTEST_CASES` raises them.
use super::{Expect, Fault, Reader, MAX_HEAD};
use proptest::prelude::*;

/// What the reader made of a connection's bytes, response by response.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Response(u16),
    Fault(Fault),
    /// The server closed between responses.
    Closed,
}

/// Feed `data` in chunks of `sizes` (repeated), as reads would deliver it, then the close.
fn read_all(data: &[u8], sizes: &[usize]) -> Vec<Outcome> {
    let x = Expect::default();
    let mut out = Vec::new();
    let mut r = Reader::default();
    let mut buf = Vec::new();
    // Bytes of the current response have arrived (it is not between responses).
    let mut started = false;
    let mut at = 0;
    for &size in sizes.iter().cycle() {
        if at >= data.len() {
            break;
        }
        let end = data.len().min(at.saturating_add(size.max(1)));
        buf.extend_from_slice(&data[at..end]);
        at = end;
        loop {
            started |= !buf.is_empty();
            match r.feed(&mut buf, &x) {
                Ok(Some(resp)) => {
                    out.push(Outcome::Response(resp.status));
                    r = Reader::default();
                    started = false;
                    if buf.is_empty() {
                        break;
                    }
                }
                Ok(None) => {
                    assert!(buf.len() <= MAX_HEAD, "held {} bytes", buf.len());
                    break;
                }
                Err(f) => {
                    out.push(Outcome::Fault(f));
                    return out;
                }
            }
        }
    }
    out.push(if started {
        match r.finish(&mut buf, &x) {
            Ok(resp) => Outcome::Response(resp.status),
            Err(f) => Outcome::Fault(f),
        }
    } else {
        Outcome::Closed
    });
    out
}

/// A well-formed response with status `status` and a body of `len` bytes, by length or in
/// chunks of `chunk` bytes; an interim `100 Continue` before it when `interim`.
fn response(status: u16, len: usize, chunked: bool, chunk: usize, interim: bool) -> Vec<u8> {
    let mut v = Vec::new();
    if interim {
        v.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    v.extend_from_slice(format!("HTTP/1.1 {status} X\r\nX-Herd-Worker: 3\r\n").as_bytes());
    let body = "b".repeat(len);
    if chunked {
        v.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for c in body.as_bytes().chunks(chunk.max(1)) {
            v.extend_from_slice(format!("{:x};ext=1\r\n", c.len()).as_bytes());
            v.extend_from_slice(c);
            v.extend_from_slice(b"\r\n");
        }
        v.extend_from_slice(b"0\r\nTrailer: t\r\n\r\n");
    } else {
        v.extend_from_slice(format!("Content-Length: {len}\r\n\r\n{body}").as_bytes());
    }
    v
}

fn good() -> impl Strategy<Value = (u16, Vec<u8>)> {
    (
        200u16..600,
        0usize..300,
        any::<bool>(),
        1usize..40,
        any::<bool>(),
    )
        .prop_map(|(s, len, ch, chunk, i)| {
            // 204 and 304 have no body, whatever the head says.
            let (len, ch) = if s == 204 || s == 304 {
                (0, false)
            } else {
                (len, ch)
            };
            (s, response(s, len, ch, chunk, i))
        })
}

/// One piece of a connection's bytes: responses good and bad, and garbage.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        good().prop_map(|(_, v)| v),
        Just(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\nabc".to_vec()),
        Just(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec()),
        Just(b"HTTP/1.0 200 OK\r\n\r\nto the close".to_vec()),
        Just(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: \x00\xff\r\n\r\nok\n".to_vec()),
        (MAX_HEAD - 40..MAX_HEAD + 40).prop_map(|n| {
            let mut v = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
            v.resize(n, b'a');
            v.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
            v
        }),
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::vec(prop::sample::select(b"HTP/1.0 2\r\n: 0;".to_vec()), 0..64),
    ]
}

fn splits() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..300, 1..16)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_split_gives_the_same_responses(
        data in prop::collection::vec(piece(), 0..6).prop_map(|p| p.concat()),
        sizes in splits(),
    ) {
        let got = read_all(&data, &sizes);
        prop_assert_eq!(&got, &read_all(&data, &[usize::MAX]));
        // A byte at a time (each read parses the head again: kept to inputs of a few KiB).
        if data.len() <= 4096 {
            prop_assert_eq!(&read_all(&data, &[1]), &got);
        }
    }

    #[test]
    fn well_formed_responses_are_read_whole(
        responses in prop::collection::vec(good(), 1..6),
        sizes in splits(),
    ) {
        let data: Vec<u8> = responses.iter().flat_map(|(_, v)| v.clone()).collect();
        let mut want: Vec<Outcome> =
            responses.iter().map(|&(s, _)| Outcome::Response(s)).collect();
        want.push(Outcome::Closed);
        prop_assert_eq!(read_all(&data, &sizes), want);
    }
}
