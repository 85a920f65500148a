//! How evenly the workers shared the connections.

/// Jain's fairness index, (Σx)² / (n·Σx²): 1 when every worker took the same number, 1/n when
/// one took them all. 1 for an empty or all-zero input (nothing was unfair).
pub fn jain_index(xs: &[u64]) -> f64 {
    let n = xs.len() as f64;
    let sum: f64 = xs.iter().map(|&x| x as f64).sum();
    let sq: f64 = xs.iter().map(|&x| (x as f64) * (x as f64)).sum();
    if n == 0.0 || sq == 0.0 {
        1.0
    } else {
        sum * sum / (n * sq)
    }
}

/// The largest share any one worker took, in [0, 1]; 0 when nothing was accepted.
pub fn max_share(xs: &[u64]) -> f64 {
    let sum: u64 = xs.iter().sum();
    match xs.iter().max() {
        Some(&m) if sum > 0 => m as f64 / sum as f64,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_is_one_and_monopoly_is_one_over_n() {
        assert!((jain_index(&[5, 5, 5, 5]) - 1.0).abs() < 1e-12);
        assert!((jain_index(&[8, 0, 0, 0]) - 0.25).abs() < 1e-12);
        assert!((max_share(&[8, 0, 0, 0]) - 1.0).abs() < 1e-12);
        assert!((max_share(&[1, 1, 2]) - 0.5).abs() < 1e-12);
        assert_eq!(max_share(&[]), 0.0);
    }
}
