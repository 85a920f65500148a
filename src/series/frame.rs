//! What travels on the pipes, in fixed-size frames.
//!
//! A result frame (worker to master) is 24 bytes: magic `HRDS`, the term index (u32), the
//! term's f64 bits, and a 64-bit FNV-1a checksum of the first 16 bytes, all little-endian.
//! 24 bytes is below PIPE_BUF, so a worker's single write(2) arrives whole; the master still
//! accumulates partial reads in a [`FrameBuf`] and never takes a partial frame as a value. A
//! task frame (master to worker, pool mode) is 8 bytes: magic `HRDT` and the term index; EOF on
//! the task pipe tells a worker to exit.
use std::fmt;

pub const RESULT_LEN: usize = 24;
pub const TASK_LEN: usize = 8;
const RESULT_MAGIC: [u8; 4] = *b"HRDS";
const TASK_MAGIC: [u8; 4] = *b"HRDT";

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub fn encode_result(index: u32, value: f64) -> [u8; RESULT_LEN] {
    let mut f = [0u8; RESULT_LEN];
    f[..4].copy_from_slice(&RESULT_MAGIC);
    f[4..8].copy_from_slice(&index.to_le_bytes());
    f[8..16].copy_from_slice(&value.to_bits().to_le_bytes());
    let sum = fnv1a(&f[..16]);
    f[16..].copy_from_slice(&sum.to_le_bytes());
    f
}

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameError {
    BadMagic([u8; 4]),
    BadChecksum,
    WrongIndex { expected: u32, got: u32 },
    NotATerm(f64),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadMagic(m) => write!(f, "garbage on the pipe (magic {m:02x?})"),
            FrameError::BadChecksum => write!(f, "corrupt frame (checksum mismatch)"),
            FrameError::WrongIndex { expected, got } => {
                write!(f, "frame for term {got} where term {expected} was due")
            }
            FrameError::NotATerm(v) => {
                write!(f, "value {v} is not a term (negative or not finite)")
            }
        }
    }
}

/// Check a complete result frame and return its value, which must be for term `expected`.
pub fn decode_result(f: &[u8; RESULT_LEN], expected: u32) -> Result<f64, FrameError> {
    let mut magic = [0u8; 4];
    magic.copy_from_slice(&f[..4]);
    if magic != RESULT_MAGIC {
        return Err(FrameError::BadMagic(magic));
    }
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&f[16..]);
    if u64::from_le_bytes(sum) != fnv1a(&f[..16]) {
        return Err(FrameError::BadChecksum);
    }
    let mut idx = [0u8; 4];
    idx.copy_from_slice(&f[4..8]);
    let got = u32::from_le_bytes(idx);
    if got != expected {
        return Err(FrameError::WrongIndex { expected, got });
    }
    let mut bits = [0u8; 8];
    bits.copy_from_slice(&f[8..16]);
    let v = f64::from_bits(u64::from_le_bytes(bits));
    if !v.is_finite() || v < 0.0 {
        return Err(FrameError::NotATerm(v));
    }
    Ok(v)
}

pub fn encode_task(index: u32) -> [u8; TASK_LEN] {
    let mut f = [0u8; TASK_LEN];
    f[..4].copy_from_slice(&TASK_MAGIC);
    f[4..].copy_from_slice(&index.to_le_bytes());
    f
}

pub fn decode_task(f: &[u8; TASK_LEN]) -> Option<u32> {
    let mut idx = [0u8; 4];
    idx.copy_from_slice(&f[4..]);
    (f[..4] == TASK_MAGIC).then(|| u32::from_le_bytes(idx))
}

/// A result frame being assembled from reads of any size.
#[derive(Debug, Default, Clone)]
pub struct FrameBuf {
    buf: [u8; RESULT_LEN],
    have: usize,
}

impl FrameBuf {
    /// The bytes still to fill.
    pub fn space(&mut self) -> &mut [u8] {
        &mut self.buf[self.have..]
    }

    /// Record `n` bytes written into [`FrameBuf::space`]; returns the frame once complete and
    /// starts the next one.
    pub fn filled(&mut self, n: usize) -> Option<[u8; RESULT_LEN]> {
        self.have += n;
        if self.have == RESULT_LEN {
            self.have = 0;
            Some(self.buf)
        } else {
            None
        }
    }

    /// Bytes of an incomplete frame received so far.
    pub fn partial(&self) -> usize {
        self.have
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let f = encode_result(7, 0.25);
        assert_eq!(decode_result(&f, 7), Ok(0.25));
        assert_eq!(
            decode_result(&f, 8),
            Err(FrameError::WrongIndex {
                expected: 8,
                got: 7
            })
        );
        let mut bad = f;
        bad[9] ^= 1;
        assert_eq!(decode_result(&bad, 7), Err(FrameError::BadChecksum));
        let garbage = [0x41u8; RESULT_LEN];
        assert!(matches!(
            decode_result(&garbage, 7),
            Err(FrameError::BadMagic(_))
        ));
        let nan = encode_result(1, f64::NAN);
        assert!(matches!(
            decode_result(&nan, 1),
            Err(FrameError::NotATerm(_))
        ));
        assert_eq!(decode_task(&encode_task(42)), Some(42));
        assert_eq!(decode_task(&[0; TASK_LEN]), None);
    }

    #[test]
    fn partial_reads_assemble_one_frame() {
        let f = encode_result(3, 1.5);
        let mut b = FrameBuf::default();
        for chunk in f.chunks(5) {
            let space = b.space();
            space[..chunk.len()].copy_from_slice(chunk);
            let done = b.filled(chunk.len());
            assert_eq!(done.is_some(), b.partial() == 0);
            if let Some(frame) = done {
                assert_eq!(decode_result(&frame, 3), Ok(1.5));
            }
        }
    }
}
