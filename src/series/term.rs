//! The arithmetic of e^x = sum over i of x^i / i!.
//!
//! **Terms.** Worker i computes `t_i = |x|^i / i!` as a running product
//! `t_k = t_(k-1) * |x| / k`, so no intermediate is larger than the largest term (x^i and i!
//! alone overflow f64 at i = 171). Each step rounds twice, so `t_i` carries a relative error of
//! at most about `2 i u` (u = 2^-53 ≈ 1.1e-16).
//!
//! **Sum.** The master sums the terms in index order (so the result does not depend on which
//! worker answered first) with Neumaier's compensated summation, whose error is about `2 u` of
//! the sum plus `O(N u^2)`. All terms of `|x|` are positive, so the sum is perfectly
//! conditioned, and the term errors add up to at most
//! `sum(2 i u t_i) / sum(t_i) = 2 u |x|` (the mean of i under the weights t_i is |x|).
//!
//! **Negative x.** The alternating series cancels catastrophically: for x = -20 the largest
//! term is 20^20/20! ≈ 4.3e7 while e^-20 ≈ 2.1e-9, so 16 of f64's 16 digits would be lost.
//! Instead the workers compute the terms of |x| and the master returns `1 / e^|x|`, which adds
//! one rounding.
//!
//! **Bound.** With enough terms ([`terms_needed`]), the relative error against the exact value
//! is at most about `(2 |x| + 3) u`: 3.4e-16 at x = 1, 1.1e-14 at |x| = 50 and 1.6e-13 at the
//! largest allowed |x| = 700, under the 1e-12 the tests require. f64::exp is itself within
//! 1 ulp. |x| is capped at [`MAX_ABS_X`] because e^709.8 overflows f64.

/// The largest |x| accepted: e^700 ≈ 1.0e304 still fits in an f64 with room for the sum.
pub const MAX_ABS_X: f64 = 700.0;
/// Unit roundoff of f64.
const U: f64 = f64::EPSILON / 2.0;

/// `|x|^i / i!`, by running product.
pub fn term(abs_x: f64, i: u32) -> f64 {
    let mut t = 1.0;
    for k in 1..=i {
        t = t * abs_x / f64::from(k);
    }
    t
}

/// Neumaier's compensated sum (Kahan's, also correct when an addend is larger than the sum).
pub fn compensated_sum(terms: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut comp) = (0.0f64, 0.0f64);
    for t in terms {
        let s = sum + t;
        if sum.abs() >= t.abs() {
            comp += (sum - s) + t;
        } else {
            comp += (t - s) + sum;
        }
        sum = s;
    }
    sum + comp
}

/// e^x from the terms `t_i = |x|^i / i!` (in index order) of |x|.
pub fn assemble(x: f64, terms: &[f64]) -> f64 {
    let s = compensated_sum(terms.iter().copied());
    if x < 0.0 {
        1.0 / s
    } else {
        s
    }
}

/// The fewest terms N for which the omitted tail `sum(i >= N) t_i` is below u/4 of e^|x|, so
/// truncation adds nothing visible to the rounding error.
pub fn terms_needed(x: f64) -> u32 {
    let a = x.abs();
    let total = a.exp();
    let mut t = 1.0; // t_n
    let mut n: u32 = 0;
    loop {
        // Once n + 1 > 2a the tail from n is below t_n * (1 + 1/2 + 1/4 + ...) = 2 t_n.
        if f64::from(n + 1) > 2.0 * a && 2.0 * t < U / 4.0 * total {
            return n;
        }
        n += 1;
        t = t * a / f64::from(n);
    }
}

/// The relative error of `value` against f64::exp(x).
pub fn relative_error(value: f64, x: f64) -> f64 {
    let e = x.exp();
    ((value - e) / e).abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(x: f64, n: u32) -> f64 {
        let terms: Vec<f64> = (0..n).map(|i| term(x.abs(), i)).collect();
        assemble(x, &terms)
    }

    #[test]
    fn agrees_with_exp_across_the_range() {
        for x in [
            -700.0, -50.0, -20.0, -1.5, -1e-3, 0.0, 1e-3, 1.0, 10.0, 50.0, 300.0, 700.0,
        ] {
            let n = terms_needed(x);
            let err = relative_error(series(x, n), x);
            let bound = (2.0 * f64::abs(x) + 4.0) * U;
            assert!(err <= bound, "x={x} n={n}: error {err:e} above {bound:e}");
            assert!(err < 1e-12, "x={x}: {err:e}");
        }
    }

    #[test]
    fn terms_needed_is_enough_and_not_wasteful() {
        assert_eq!(terms_needed(0.0), 1);
        for x in [1.0, 10.0, 50.0] {
            let n = terms_needed(x);
            // One term fewer still gives the same value to within a few ulps; far fewer
            // terms visibly do not.
            assert!(relative_error(series(x, n / 2), x) > 1e-12, "x={x} n={n}");
        }
        assert!(terms_needed(50.0) <= 200);
    }

    #[test]
    fn the_naive_alternating_series_would_fail() {
        // Why negative x is inverted: summing the signed terms of x = -20 directly is wrong
        // in the leading digits.
        let n = terms_needed(-20.0);
        let signed = compensated_sum((0..n).map(|i| {
            let t = term(20.0, i);
            if i % 2 == 1 {
                -t
            } else {
                t
            }
        }));
        assert!(relative_error(signed, -20.0) > 1e-9);
        assert!(relative_error(series(-20.0, n), -20.0) < 1e-14);
    }

    #[test]
    fn compensation_recovers_small_addends() {
        let naive: f64 = [1.0, 1e-16, 1e-16, 1e-16, 1e-16].iter().sum();
        let comp = compensated_sum([1.0, 1e-16, 1e-16, 1e-16, 1e-16]);
        assert_eq!(naive, 1.0);
        assert!((comp - (1.0 + 4e-16)).abs() < 1e-17);
    }
}
