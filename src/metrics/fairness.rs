//! How evenly the workers shared the connections.

/// Jain's fairness index, (Σx)² / (n·Σx²): 1 when every worker took the same number, 1/n when
/// one took them all. `None` for an empty or all-zero input: with nothing accepted there is no
/// share to judge, which is not "perfectly fair".
pub fn jain_index(xs: &[u64]) -> Option<f64> {
    let n = xs.len() as f64;
    let sum: f64 = xs.iter().map(|&x| x as f64).sum();
    let sq: f64 = xs.iter().map(|&x| (x as f64) * (x as f64)).sum();
    (sq > 0.0).then(|| sum * sum / (n * sq))
}

/// The largest share any one worker took, in [0, 1]; `None` when nothing was accepted.
pub fn max_share(xs: &[u64]) -> Option<f64> {
    let sum: u64 = xs.iter().sum();
    let max = xs.iter().max()?;
    (sum > 0).then(|| *max as f64 / sum as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_is_one_and_monopoly_is_one_over_n() {
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-12;
        assert!(close(jain_index(&[5, 5, 5, 5]), 1.0));
        assert!(close(jain_index(&[8, 0, 0, 0]), 0.25));
        assert!(close(max_share(&[8, 0, 0, 0]), 1.0));
        assert!(close(max_share(&[1, 1, 2]), 0.5));
    }

    #[test]
    fn nothing_accepted_has_no_fairness() {
        assert_eq!(jain_index(&[]), None);
        assert_eq!(jain_index(&[0, 0, 0]), None);
        assert_eq!(max_share(&[]), None);
        assert_eq!(max_share(&[0, 0]), None);
    }
}
