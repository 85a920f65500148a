//! Property tests of the request parser over arbitrary bytes split at arbitrary points: the
//! sync reader ([`RequestReader`]) gives the same requests however the bytes arrive, never
//! panics, never asks for more than its limits, and ends every input with requests followed
//! by a 400, a close, or an error. The event loop's parser (worker/event/conn.rs) is held to
//! the same answers with [`reference`]. Case counts are fixed (docs/reliability.md adds them
//! up), so the time in CI is bounded; `PROPTEST_CASES` raises them.
use super::http::{Head, Next, RequestReader, MAX_HEAD};
use proptest::prelude::*;
use std::io::{self, Read};

/// What the reader made of the input, request by request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Request(Head),
    Bad,
    Closed,
    /// The input ended in the middle of a request.
    Cut,
}

/// One piece of an input: requests good and bad, and garbage.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        Just(b"GET /a HTTP/1.0\r\n\r\n".to_vec()),
        Just(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec()),
        (0usize..40).prop_map(|n| format!(
            "POST /p HTTP/1.1\r\nContent-Length: {n}\r\n\r\n{}",
            "b".repeat(n)
        )
        .into_bytes()),
        Just(b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n".to_vec()),
        Just(b"GET / HTTP/1.1\r\nX: \xff\xfe\r\n\r\n".to_vec()),
        Just(b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n".to_vec()),
        Just(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec()),
        (MAX_HEAD - 40..MAX_HEAD + 40).prop_map(|n| {
            let mut v = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
            v.resize(n, b'a');
            v.extend_from_slice(b"\r\n\r\n");
            v
        }),
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::vec(prop::sample::select(b"GET /HTP1.0\r\n: ".to_vec()), 0..64),
    ]
}

/// An input and the sizes of the chunks it arrives in (repeated; at least 1 byte each).
pub(crate) fn input() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    (
        prop::collection::vec(piece(), 0..8).prop_map(|p| p.concat()),
        prop::collection::vec(1usize..300, 1..16),
    )
}

/// A stream that hands out `data` in chunks of the given sizes, and checks every read.
struct Chunks<'a> {
    data: &'a [u8],
    sizes: &'a [usize],
    next: usize,
    /// The largest buffer a read asked to fill.
    pub asked: usize,
}

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.asked = self.asked.max(buf.len());
        let size = self.sizes[self.next % self.sizes.len()];
        self.next += 1;
        let n = size.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Read `data`, arriving in chunks of `sizes`, to its end; the outcomes and the largest read.
pub(crate) fn read_all(data: &[u8], sizes: &[usize]) -> (Vec<Outcome>, usize) {
    let mut src = Chunks {
        data,
        sizes,
        next: 0,
        asked: 0,
    };
    let mut buf = Vec::new();
    let mut r = RequestReader::new(&mut buf);
    let mut out = Vec::new();
    {
        // Each request consumes at least one byte, so this bounds the loop.
        for _ in 0..=data.len() + 1 {
            match r.next(&mut src) {
                Ok(Next::Request(h)) => out.push(Outcome::Request(h)),
                Ok(Next::Bad) => {
                    out.push(Outcome::Bad);
                    break;
                }
                Ok(Next::Closed) => {
                    out.push(Outcome::Closed);
                    break;
                }
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
                    out.push(Outcome::Cut);
                    break;
                }
            }
        }
    }
    assert_eq!(buf.len(), MAX_HEAD, "the reader's buffer grew");
    (out, src.asked)
}

/// The outcomes of `data` read in one piece: what every split must give.
pub(crate) fn reference(data: &[u8]) -> Vec<Outcome> {
    read_all(data, &[usize::MAX]).0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_split_gives_the_same_requests((data, sizes) in input()) {
        let (got, asked) = read_all(&data, &sizes);
        prop_assert_eq!(&got, &reference(&data));
        prop_assert!(asked <= MAX_HEAD, "a read asked for {} bytes", asked);
        // Every input ends: requests, then a 400, a close, or a cut.
        prop_assert!(matches!(
            got.last(),
            Some(Outcome::Bad | Outcome::Closed | Outcome::Cut)
        ));
    }

    #[test]
    fn one_byte_at_a_time_is_the_same((data, _) in input()) {
        prop_assert_eq!(read_all(&data, &[1]).0, reference(&data));
    }
}

#[test]
fn a_trickled_request_is_cut_at_the_limit() {
    struct Slow(Vec<u8>);
    impl Read for Slow {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            std::thread::sleep(std::time::Duration::from_millis(20));
            match self.0.is_empty() {
                true => Ok(0),
                false if buf.is_empty() => Ok(0),
                false => {
                    buf[0] = self.0.remove(0);
                    Ok(1)
                }
            }
        }
    }
    let mut buf = Vec::new();
    let mut r = RequestReader::new(&mut buf).with_limit(std::time::Duration::from_millis(100));
    let mut s = Slow(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec());
    let e = r
        .next(&mut s)
        .err()
        .expect("a trickle past the limit was served");
    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
}
