//! Money: an exact decimal amount with its currency.
//!
//! Amounts are [`rust_decimal::Decimal`] (28 significant digits), so a month of billing rows
//! sums to the cent and beyond with no binary rounding. Adding two currencies is an error
//! ([`CostError::MixedCurrency`]) unless exchange rates are given ([`ExchangeRates`]).

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::CostError;

/// An ISO 4217 currency code: three ASCII letters, kept upper-case.
///
/// # Examples
/// ```
/// use perfcore::cost::Currency;
/// let usd = Currency::parse("usd").unwrap();
/// assert_eq!(usd, Currency::USD);
/// assert_eq!(usd.as_str(), "USD");
/// assert!(Currency::parse("US$").is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// United States dollar.
    pub const USD: Currency = Currency(*b"USD");
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");

    /// Parses a three-letter code in any case; `None` for anything else.
    #[must_use]
    pub fn parse(code: &str) -> Option<Currency> {
        Currency::from_bytes(code.trim().as_bytes())
    }

    pub(crate) fn from_bytes(code: &[u8]) -> Option<Currency> {
        match code {
            [a, b, c] if code.iter().all(u8::is_ascii_alphabetic) => Some(Currency([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => None,
        }
    }

    /// The code, e.g. `"USD"`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Currency::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is not a three-letter currency code"))
        })
    }
}

/// An amount of one currency.
///
/// # Examples
/// ```
/// use perfcore::cost::{Currency, Money};
/// let a = Money::new("0.1".parse().unwrap(), Currency::USD);
/// let b = Money::new("0.2".parse().unwrap(), Currency::USD);
/// assert_eq!(a.checked_add(b).unwrap().to_string(), "0.3 USD");
/// let eur = Money::new("1".parse().unwrap(), Currency::EUR);
/// assert!(a.checked_add(eur).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The exact amount (serialised as a string, so JSON keeps every digit).
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
}

impl Money {
    /// `amount` of `currency`.
    #[must_use]
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// Zero of `currency`.
    #[must_use]
    pub fn zero(currency: Currency) -> Money {
        Money::new(Decimal::ZERO, currency)
    }

    /// The sum, or [`CostError::MixedCurrency`] if the currencies differ, or
    /// [`CostError::Overflow`] beyond 28 digits.
    pub fn checked_add(self, other: Money) -> Result<Money, CostError> {
        if self.currency != other.currency {
            return Err(CostError::MixedCurrency {
                first: self.currency.to_string(),
                second: other.currency.to_string(),
            });
        }
        let amount = self.amount.checked_add(other.amount).ok_or(CostError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// The amount rounded to cents (banker's rounding is not used: half away from zero, as
    /// invoices round), for display.
    #[must_use]
    pub fn round_cents(&self) -> Decimal {
        self.amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    }

    /// The amount for people: two decimals, or, below one cent, enough significant digits
    /// to see it (three), and the currency.
    ///
    /// # Examples
    /// ```
    /// use perfcore::cost::{Currency, Money};
    /// let m = |s: &str| Money::new(s.parse().unwrap(), Currency::USD);
    /// assert_eq!(m("1234.5").display(), "1234.50 USD");
    /// assert_eq!(m("0.000123456").display(), "0.000123 USD");
    /// assert_eq!(m("-0.004").display(), "-0.004 USD");
    /// assert_eq!(m("0").display(), "0.00 USD");
    /// ```
    #[must_use]
    pub fn display(&self) -> String {
        format!("{} {}", self.display_amount(), self.currency)
    }

    /// [`Money::display`] without the currency.
    ///
    /// # Examples
    /// ```
    /// use perfcore::cost::{Currency, Money};
    /// assert_eq!(Money::new("0.000123456".parse().unwrap(), Currency::EUR).display_amount(), "0.000123");
    /// ```
    #[must_use]
    pub fn display_amount(&self) -> String {
        let a = self.amount;
        if a.is_zero() || a.abs() >= Decimal::new(1, 2) {
            return format!("{:.2}", self.round_cents());
        }
        // Below a cent: three significant digits.
        let mut dp = 2;
        while dp < 28 && a.abs() < Decimal::new(1, dp) {
            dp += 1;
        }
        let shown =
            a.round_dp_with_strategy(dp + 2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        shown.normalize().to_string()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount.normalize(), self.currency)
    }
}

/// Exchange rates into one target currency: `rate(X)` units of the target buy one unit of X.
///
/// # Examples
/// ```
/// use perfcore::cost::{Currency, ExchangeRates, Money};
/// let rates = ExchangeRates::new(Currency::USD).with_rate(Currency::EUR, "1.10".parse().unwrap());
/// let eur = Money::new("10".parse().unwrap(), Currency::EUR);
/// assert_eq!(rates.convert(eur).unwrap().to_string(), "11 USD");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExchangeRates {
    /// The currency everything converts into.
    pub target: Currency,
    /// Units of `target` per unit of each other currency.
    pub rates: BTreeMap<Currency, Decimal>,
}

impl ExchangeRates {
    /// Rates into `target` (none yet: only `target` itself converts).
    #[must_use]
    pub fn new(target: Currency) -> ExchangeRates {
        ExchangeRates { target, rates: BTreeMap::new() }
    }

    /// Adds the rate of `currency`.
    #[must_use]
    pub fn with_rate(mut self, currency: Currency, rate: Decimal) -> ExchangeRates {
        self.rates.insert(currency, rate);
        self
    }

    /// `money` in the target currency, or [`CostError::NoExchangeRate`].
    pub fn convert(&self, money: Money) -> Result<Money, CostError> {
        if money.currency == self.target {
            return Ok(money);
        }
        let rate = self.rates.get(&money.currency).ok_or_else(|| CostError::NoExchangeRate {
            from: money.currency.to_string(),
            to: self.target.to_string(),
        })?;
        let amount = money.amount.checked_mul(*rate).ok_or(CostError::Overflow)?;
        Ok(Money::new(amount, self.target))
    }
}

/// Exact sums kept per currency: adding never fails; reading one total fails if the sum holds
/// several currencies and no rates are given.
///
/// # Examples
/// ```
/// use perfcore::cost::{Currency, Money, MoneySum};
/// let mut sum = MoneySum::default();
/// sum.add(Money::new("0.1".parse().unwrap(), Currency::USD));
/// sum.add(Money::new("0.2".parse().unwrap(), Currency::USD));
/// assert_eq!(sum.total(None).unwrap().to_string(), "0.3 USD");
/// sum.add(Money::new("1".parse().unwrap(), Currency::EUR));
/// assert!(sum.total(None).is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneySum {
    /// The amount of each currency.
    pub by_currency: BTreeMap<Currency, Decimal>,
}

impl MoneySum {
    /// Adds `money` (saturating at `Decimal::MAX`, far beyond any bill).
    pub fn add(&mut self, money: Money) {
        let slot = self.by_currency.entry(money.currency).or_default();
        *slot = slot.saturating_add(money.amount);
    }

    /// Adds every currency of `other`.
    pub fn merge(&mut self, other: &MoneySum) {
        for (&currency, &amount) in &other.by_currency {
            self.add(Money::new(amount, currency));
        }
    }

    /// True when nothing was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_currency.is_empty()
    }

    /// The one total: in its currency if there is only one (USD when empty), converted with
    /// `rates` otherwise, or [`CostError::MixedCurrency`] without them.
    pub fn total(&self, rates: Option<&ExchangeRates>) -> Result<Money, CostError> {
        let mut iter = self.by_currency.iter();
        match (iter.next(), iter.next(), rates) {
            (None, _, r) => Ok(Money::zero(r.map_or(Currency::USD, |r| r.target))),
            (Some((&c, &a)), None, None) => Ok(Money::new(a, c)),
            (Some((&first, _)), Some((&second, _)), None) => Err(CostError::MixedCurrency {
                first: first.to_string(),
                second: second.to_string(),
            }),
            (Some(_), _, Some(rates)) => {
                let mut total = Money::zero(rates.target);
                for (&c, &a) in &self.by_currency {
                    total = total.checked_add(rates.convert(Money::new(a, c))?)?;
                }
                Ok(total)
            }
        }
    }
}

/// Parses a decimal as billing exports write it: `12.5`, `-0.00000080000`, `1.2E-5`, `+3`.
pub(crate) fn parse_decimal(text: &[u8]) -> Option<Decimal> {
    let text = text.trim_ascii();
    // Fast path: [-]digits[.digits] with at most 28 digits, straight into the mantissa.
    let (negative, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut mantissa: i128 = 0;
    let mut digits = 0u32;
    let mut scale = None;
    let mut fast = !body.is_empty();
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                if digits > 0 || b != b'0' {
                    digits += 1;
                }
                mantissa = mantissa * 10 + i128::from(b - b'0');
            }
            b'.' if scale.is_none() => scale = Some(i),
            _ => {
                fast = false;
                break;
            }
        }
        if digits > 28 {
            fast = false;
            break;
        }
    }
    if fast {
        let scale = scale.map_or(0, |dot| body.len() - dot - 1) as u32;
        let int_digits = body.len() - usize::from(scale > 0 || body.contains(&b'.'));
        if scale <= 28 && int_digits > 0 {
            let m = if negative { -mantissa } else { mantissa };
            return Decimal::try_from_i128_with_scale(m, scale).ok();
        }
    }
    let text = std::str::from_utf8(text).ok()?;
    if text.bytes().any(|b| b == b'e' || b == b'E') {
        return Decimal::from_scientific(text).ok();
    }
    text.parse::<Decimal>().ok()
}

/// A decimal from an `f64` through its shortest round-trip text, so `0.096` is exactly
/// `0.096` (not the binary value's 0.0960000000000000019984…). `None` for NaN or infinity.
///
/// # Examples
/// ```
/// let d = perfcore::cost::decimal_from_f64(0.096).unwrap() * perfcore::cost::decimal_from_f64(720.0).unwrap();
/// assert_eq!(d.normalize().to_string(), "69.12");
/// ```
pub fn decimal_from_f64(value: f64) -> Option<Decimal> {
    if !value.is_finite() {
        return None;
    }
    let text = format!("{value}");
    Decimal::from_str_exact(&text)
        .ok()
        .or_else(|| Decimal::from_scientific(&format!("{value:e}")).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    #[test]
    fn export_spellings_parse_exactly() {
        for (text, expect) in [
            ("0.00000080000", "0.00000080000"),
            ("-3", "-3"),
            ("+2.5", "2.5"),
            ("1.2E-5", "0.000012"),
            ("1e3", "1000"),
            ("  7.10 ", "7.10"),
            (".5", "0.5"),
            ("5.", "5"),
        ] {
            assert_eq!(
                parse_decimal(text.as_bytes()),
                Some(Decimal::from_str(expect).unwrap()),
                "{text}"
            );
        }
        for bad in ["", "-", ".", "NULL", "1,5", "1.2.3", "$3", "abc", "1e", "--1"] {
            assert_eq!(parse_decimal(bad.as_bytes()), None, "{bad}");
        }
        // 29 significant digits do not fit in the fast path but still parse (rounded).
        assert!(parse_decimal(b"1234567890.1234567890123456789").is_some());
    }

    #[test]
    fn floats_convert_through_their_shortest_text() {
        assert_eq!(decimal_from_f64(0.096).unwrap().to_string(), "0.096");
        assert_eq!(
            (decimal_from_f64(0.096).unwrap() * decimal_from_f64(720.0).unwrap())
                .normalize()
                .to_string(),
            "69.12"
        );
        assert_eq!(decimal_from_f64(1e-20).unwrap().to_string(), "0.00000000000000000001");
        assert!(decimal_from_f64(f64::NAN).is_none());
    }

    #[test]
    fn mixed_currencies_need_rates() {
        let mut sum = MoneySum::default();
        sum.add(Money::new(Decimal::ONE, Currency::USD));
        sum.add(Money::new(Decimal::TWO, Currency::EUR));
        let err = sum.total(None).unwrap_err();
        assert!(err.to_string().contains("EUR") && err.to_string().contains("USD"), "{err}");
        let rates = ExchangeRates::new(Currency::USD).with_rate(Currency::EUR, Decimal::new(11, 1));
        assert_eq!(sum.total(Some(&rates)).unwrap().amount, Decimal::new(32, 1));
        let gbp = ExchangeRates::new(Currency::parse("GBP").unwrap());
        assert!(matches!(sum.total(Some(&gbp)), Err(CostError::NoExchangeRate { .. })));
    }

    proptest! {
        /// The fast path and rust_decimal's own parser agree on every plain decimal.
        #[test]
        fn the_fast_path_agrees_with_rust_decimal(int in 0u64..10_000_000_000, frac in 0u64..1_000_000_000_000, width in 0usize..13, neg: bool) {
            let text = if width == 0 { format!("{}{int}", if neg { "-" } else { "" }) } else {
                let f = format!("{frac:012}");
                format!("{}{int}.{}", if neg { "-" } else { "" }, &f[..width])
            };
            prop_assert_eq!(parse_decimal(text.as_bytes()), Decimal::from_str(&text).ok());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_decimal(&bytes);
        }

        /// Sums are exact: the sum of cents equals the cents of the sum.
        #[test]
        fn sums_are_exact_to_the_cent(cents in proptest::collection::vec(-1_000_000i64..1_000_000, 0..200)) {
            let mut sum = MoneySum::default();
            for &c in &cents {
                sum.add(Money::new(Decimal::new(c, 2), Currency::USD));
            }
            let total = sum.total(None).unwrap().amount;
            prop_assert_eq!(total, Decimal::new(cents.iter().sum::<i64>(), 2));
        }
    }
}
