//! Sample analysis: runs every validator over a column's sampled values and keeps only what C5
//! allows to outlive the sample — counts, hit ratios and one masked example per validator. The
//! values themselves are borrowed for the duration of [`analyze`] and never copied into the result.

use std::net::{Ipv4Addr, Ipv6Addr};

use chrono::{NaiveDate, Utc};

use super::validators;

/// A check run over sampled values, with the category a high hit ratio points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Validator {
    Email,
    Phone,
    Iban,
    /// A full card number that passes Luhn.
    Card,
    /// A card number already masked for display; card-related, but not a card number.
    MaskedCard,
    /// IPv4 or IPv6.
    IpAddress,
    DateOfBirth,
    Bsn,
    DniNie,
    Nir,
    CodiceFiscale,
    SteuerId,
    UsSsn,
}

impl Validator {
    pub const ALL: [Validator; 13] = [
        Validator::Email,
        Validator::Phone,
        Validator::Iban,
        Validator::Card,
        Validator::MaskedCard,
        Validator::IpAddress,
        Validator::DateOfBirth,
        Validator::Bsn,
        Validator::DniNie,
        Validator::Nir,
        Validator::CodiceFiscale,
        Validator::SteuerId,
        Validator::UsSsn,
    ];

    /// Stable key, as shown in evidence.
    pub fn key(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Iban => "iban",
            Self::Card => "card_luhn",
            Self::MaskedCard => "masked_card",
            Self::IpAddress => "ip_address",
            Self::DateOfBirth => "date_of_birth",
            Self::Bsn => "bsn",
            Self::DniNie => "dni_nie",
            Self::Nir => "nir",
            Self::CodiceFiscale => "codice_fiscale",
            Self::SteuerId => "steuer_id",
            Self::UsSsn => "us_ssn",
        }
    }

    /// What a hit is, for people: "valid IBANs (MOD 97)".
    pub fn label(self) -> &'static str {
        match self {
            Self::Email => "e-mail addresses",
            Self::Phone => "phone numbers",
            Self::Iban => "IBANs with a valid checksum",
            Self::Card => "card numbers passing Luhn",
            Self::MaskedCard => "masked card numbers",
            Self::IpAddress => "IP addresses",
            Self::DateOfBirth => "plausible dates of birth",
            Self::Bsn => "Dutch BSNs (11-test)",
            Self::DniNie => "Spanish DNI/NIE numbers",
            Self::Nir => "French NIR (INSEE) numbers",
            Self::CodiceFiscale => "Italian codici fiscali",
            Self::SteuerId => "German tax ids (Steuer-ID)",
            Self::UsSsn => "US social security numbers",
        }
    }

    /// The taxonomy key a high hit ratio suggests.
    pub fn category(self) -> &'static str {
        match self {
            Self::Email => "contact.email",
            Self::Phone => "contact.phone",
            Self::Iban => "financial.iban",
            Self::Card | Self::MaskedCard => "financial.card",
            Self::IpAddress => "online.ip_address",
            Self::DateOfBirth => "identity.date_of_birth",
            Self::Bsn | Self::DniNie | Self::Nir | Self::CodiceFiscale | Self::SteuerId | Self::UsSsn => {
                "identity.national_id"
            }
        }
    }

    /// How much a column whose every sampled value passes says about the category. Checksums
    /// and tight syntax say a lot; a date says little (any old event date is one).
    pub fn strength(self) -> f32 {
        match self {
            Self::Email | Self::Iban | Self::CodiceFiscale => 0.95,
            Self::Card | Self::IpAddress | Self::DniNie | Self::Nir => 0.9,
            Self::Phone | Self::SteuerId => 0.8,
            Self::UsSsn => 0.75,
            // One nine-digit number in eleven passes the 11-test by chance.
            Self::Bsn => 0.7,
            Self::MaskedCard => 0.6,
            Self::DateOfBirth => 0.45,
        }
    }

    /// Whether one (trimmed, non-empty) value passes, judged as of `today` (dates of birth).
    pub fn matches(self, value: &str, today: NaiveDate) -> bool {
        match self {
            Self::Email => validators::is_email(value),
            Self::Phone => validators::is_phone(value),
            Self::Iban => validators::is_iban(value),
            Self::Card => validators::is_card_number(value),
            Self::MaskedCard => validators::is_masked_card(value),
            Self::IpAddress => validators::is_ip(value),
            Self::DateOfBirth => validators::is_date_of_birth_on(value, today),
            Self::Bsn => validators::is_bsn(value),
            Self::DniNie => validators::is_dni_nie(value),
            Self::Nir => validators::is_nir(value),
            Self::CodiceFiscale => validators::is_codice_fiscale(value),
            Self::SteuerId => validators::is_steuer_id(value),
            Self::UsSsn => validators::is_us_ssn(value),
        }
    }

    /// A masked rendering of a value this validator accepts, for showing a reviewer what was
    /// found. Anything that does not parse as this validator's format becomes `***`, so a mask
    /// never echoes its input.
    pub fn mask(self, value: &str) -> String {
        let value = value.trim();
        let masked = match self {
            Self::Email => validators::is_email(value).then(|| mask_email(value)).flatten(),
            Self::Phone => mask_phone(value),
            Self::Iban => mask_iban(value),
            Self::Card => validators::is_card_number(value).then(|| mask_card(value)).flatten(),
            Self::MaskedCard => validators::is_masked_card(value).then(|| mask_masked_card(value)).flatten(),
            Self::IpAddress => validators::is_ip(value).then(|| mask_ip(value)).flatten(),
            Self::DateOfBirth => validators::parse_date(value).is_some().then(|| mask_date(value)),
            Self::Bsn | Self::DniNie | Self::Nir | Self::CodiceFiscale | Self::SteuerId | Self::UsSsn => {
                self.matches(value, NaiveDate::MAX).then(|| mask_keep_last(value, 2))
            }
        };
        masked.unwrap_or_else(|| MASK.to_owned())
    }
}

const MASK: &str = "***";

/// `anna.berg@example.co.uk` → `a***@e***.uk`: the first character of each side and the
/// top-level domain.
fn mask_email(value: &str) -> Option<String> {
    let (local, domain) = value.rsplit_once('@')?;
    let first_local = local.chars().next()?;
    let first_domain = domain.chars().next()?;
    let tld = domain.rsplit('.').next()?;
    Some(format!("{first_local}***@{first_domain}***.{tld}"))
}

/// `+49 30 1234567` → `+49 *** *** 67`; `030 1234567` → `03 *** *** 67`. The stars do not
/// follow the number's length.
fn mask_phone(value: &str) -> Option<String> {
    let normalized = validators::normalize_phone(value)?;
    let (plus, digits) = match normalized.strip_prefix('+') {
        Some(digits) => ("+", digits),
        None => ("", normalized.as_str()),
    };
    let (head, tail) = (digits.get(..2)?, digits.get(digits.len().checked_sub(2)?..)?);
    Some(format!("{plus}{head} *** *** {tail}"))
}

/// `DE89 3704 0044 0532 0130 00` → `DE** **** **** **** **30 00`: the country (implied by the
/// length anyway) and the last four characters, in groups of four.
fn mask_iban(value: &str) -> Option<String> {
    let compact = validators::compact_iban(value)?;
    let n = compact.len();
    let shown: String = compact.char_indices().map(|(i, c)| if i < 2 || i + 4 >= n { c } else { '*' }).collect();
    Some(group_by_four(&shown))
}

fn group_by_four(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for (i, c) in text.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn last_digits(value: &str, n: usize) -> Option<String> {
    let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
    Some(digits.get(digits.len().checked_sub(n)?..)?.iter().collect())
}

/// Any full card number → `**** **** **** 4242`, whatever its length.
fn mask_card(value: &str) -> Option<String> {
    Some(format!("**** **** **** {}", last_digits(value, 4)?))
}

/// An already masked number → `[masked] **** 4242`, never its input form (which may show the
/// first six digits).
fn mask_masked_card(value: &str) -> Option<String> {
    Some(format!("[masked] **** {}", last_digits(value, 4)?))
}

/// `192.0.2.17` → `192.0.2.***`; `2001:db8::1` → `2001:db8:***`.
fn mask_ip(value: &str) -> Option<String> {
    if let Ok(v4) = value.parse::<Ipv4Addr>() {
        let [a, b, c, _] = v4.octets();
        return Some(format!("{a}.{b}.{c}.***"));
    }
    let address = value.split_once('%').map_or(value, |(address, _)| address);
    let v6 = address.parse::<Ipv6Addr>().ok()?;
    let segments = v6.segments();
    Some(format!("{:x}:{:x}:***", segments[0], segments[1]))
}

/// `1985-03-14` → `19**-**-**`, `14.03.1985` → `**.**.19**`: the format and the century.
fn mask_date(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut run = 0;
    let chars: Vec<char> = value.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_digit() {
            let run_start = i - run;
            let run_len = chars[run_start..].iter().take_while(|c| c.is_ascii_digit()).count();
            // The first two digits of the four-digit year stay visible.
            out.push(if run_len == 4 && run < 2 { c } else { '*' });
            run += 1;
        } else {
            out.push(c);
            run = 0;
        }
    }
    out
}

/// Every letter and digit but the last `keep` becomes `*`; separators stay.
fn mask_keep_last(value: &str, keep: usize) -> String {
    let total = value.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                seen += 1;
                if seen + keep > total { c } else { '*' }
            } else {
                c
            }
        })
        .collect()
}

/// How sampled values are judged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleOptions {
    /// Share of non-empty values that must pass a validator for it to propose its category.
    pub min_ratio: f32,
    /// Values beyond this many are ignored.
    pub max_samples: usize,
    /// The day dates of birth are judged against.
    pub today: NaiveDate,
}

impl SampleOptions {
    /// Defaults (0.6, 1000 values) judged as of `today`.
    pub fn at(today: NaiveDate) -> SampleOptions {
        SampleOptions { min_ratio: 0.6, max_samples: 1000, today }
    }
}

impl Default for SampleOptions {
    /// Defaults as of today's date (UTC).
    fn default() -> Self {
        SampleOptions::at(Utc::now().date_naive())
    }
}

/// What one validator found in a sample.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueFinding {
    pub validator: Validator,
    /// Values that passed.
    pub hits: u32,
    /// Non-empty values examined.
    pub sampled: u32,
    /// The first passing value, masked; `None` when nothing passed.
    pub example: Option<String>,
}

impl ValueFinding {
    /// `hits / sampled`, 0 when nothing was sampled.
    pub fn ratio(&self) -> f32 {
        if self.sampled == 0 { 0.0 } else { self.hits as f32 / self.sampled as f32 }
    }
}

/// The result of [`analyze`]: counts and masked examples only.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleAnalysis {
    /// Non-empty values examined (after trimming).
    pub sampled: u32,
    /// Values that were empty or only whitespace; not part of any ratio.
    pub empty: u32,
    /// One entry per validator with at least one hit, highest ratio first.
    pub findings: Vec<ValueFinding>,
}

impl SampleAnalysis {
    /// The finding of one validator, hits or not.
    pub fn finding(&self, validator: Validator) -> ValueFinding {
        self.findings.iter().find(|f| f.validator == validator).cloned().unwrap_or(ValueFinding {
            validator,
            hits: 0,
            sampled: self.sampled,
            example: None,
        })
    }

    /// Findings whose ratio reaches `min_ratio`, highest first.
    pub fn proposals(&self, min_ratio: f32) -> impl Iterator<Item = &ValueFinding> {
        self.findings.iter().filter(move |f| f.sampled > 0 && f.ratio() >= min_ratio)
    }
}

/// Runs every validator over up to `options.max_samples` values. Empty and whitespace-only
/// values are counted apart and excluded from ratios; NULLs are the caller's to leave out.
pub fn analyze(samples: &[&str], options: &SampleOptions) -> SampleAnalysis {
    let mut hits = [0u32; Validator::ALL.len()];
    let mut examples: [Option<String>; Validator::ALL.len()] = Default::default();
    let (mut sampled, mut empty) = (0u32, 0u32);
    for raw in samples.iter().take(options.max_samples) {
        let value = raw.trim();
        if value.is_empty() {
            empty += 1;
            continue;
        }
        sampled += 1;
        for (i, validator) in Validator::ALL.into_iter().enumerate() {
            if validator.matches(value, options.today) {
                hits[i] += 1;
                if examples[i].is_none() {
                    examples[i] = Some(validator.mask(value));
                }
            }
        }
    }
    let mut findings: Vec<ValueFinding> = Validator::ALL
        .into_iter()
        .zip(hits)
        .zip(examples)
        .filter(|((_, hits), _)| *hits > 0)
        .map(|((validator, hits), example)| ValueFinding { validator, hits, sampled, example })
        .collect();
    findings.sort_by(|a, b| b.hits.cmp(&a.hits).then(b.validator.strength().total_cmp(&a.validator.strength())));
    SampleAnalysis { sampled, empty, findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, 10).unwrap()
    }

    #[test]
    fn masks_follow_the_documented_shapes() {
        let cases: &[(Validator, &str, &str)] = &[
            (Validator::Email, "anna.berg@example.com", "a***@e***.com"),
            (Validator::Email, "Jürgen@mail.example.co.uk", "J***@m***.uk"),
            (Validator::Phone, "+49 30 1234567", "+49 *** *** 67"),
            (Validator::Phone, "030 1234567", "03 *** *** 67"),
            (Validator::Phone, "(212) 555-0147", "+12 *** *** 47"),
            (Validator::Iban, "DE89 3704 0044 0532 0130 00", "DE** **** **** **** **30 00"),
            (Validator::Iban, "nl91abna0417164300", "NL** **** **** **43 00"),
            (Validator::Card, "4242 4242 4242 4242", "**** **** **** 4242"),
            (Validator::Card, "378282246310005", "**** **** **** 0005"),
            (Validator::MaskedCard, "424242******4242", "[masked] **** 4242"),
            (Validator::IpAddress, "192.0.2.17", "192.0.2.***"),
            (Validator::IpAddress, "2001:db8::1", "2001:db8:***"),
            (Validator::IpAddress, "fe80::1%eth0", "fe80:0:***"),
            (Validator::DateOfBirth, "1985-03-14", "19**-**-**"),
            (Validator::DateOfBirth, "14.03.1985", "**.**.19**"),
            (Validator::DateOfBirth, "1985-03-14T00:00:00Z", "19**-**-**T**:**:**Z"),
            (Validator::Bsn, "1234.56.782", "****.**.*82"),
            (Validator::DniNie, "12345678Z", "*******8Z"),
            (Validator::Nir, "2 95 10 99 126 111 93", "* ** ** ** *** *** 93"),
            (Validator::CodiceFiscale, "RCCMNL83S18D969H", "**************9H"),
            (Validator::SteuerId, "36574261809", "*********09"),
            (Validator::UsSsn, "123-45-6789", "***-**-**89"),
        ];
        for &(validator, value, expected) in cases {
            assert_eq!(validator.mask(value), expected, "{validator:?} {value}");
        }
    }

    #[test]
    fn masks_of_values_in_another_format_reveal_nothing() {
        for validator in Validator::ALL {
            for value in ["hello", "a", "12", "anna@example.com", "DE89 3704 0044 0532 0130 00", "192.0.2.1", ""] {
                if !validator.matches(value, today()) {
                    assert_eq!(validator.mask(value), MASK, "{validator:?} {value}");
                }
            }
        }
    }

    #[test]
    fn every_validator_maps_to_a_taxonomy_category() {
        for validator in Validator::ALL {
            assert!(super::super::taxonomy::category(validator.category()).is_some(), "{validator:?}");
            assert!((0.0..=1.0).contains(&validator.strength()));
            assert!(!validator.label().is_empty());
        }
        let keys: std::collections::HashSet<_> = Validator::ALL.iter().map(|v| v.key()).collect();
        assert_eq!(keys.len(), Validator::ALL.len());
    }

    #[test]
    fn ratios_count_only_non_empty_values() {
        let samples = [
            "anna@example.com",
            "",
            "  ",
            "bob@example.org",
            "not an address",
            "carol@example.net",
            "dave@example.io",
            "\t",
        ];
        let analysis = analyze(&samples, &SampleOptions::at(today()));
        assert_eq!(analysis.sampled, 5);
        assert_eq!(analysis.empty, 3);
        let email = analysis.finding(Validator::Email);
        assert_eq!((email.hits, email.sampled), (4, 5));
        assert!((email.ratio() - 0.8).abs() < 1e-6);
        assert_eq!(email.example.as_deref(), Some("a***@e***.com"));
        let proposed: Vec<_> = analysis.proposals(0.6).map(|f| f.validator).collect();
        assert_eq!(proposed, [Validator::Email]);
        assert_eq!(analysis.proposals(0.81).count(), 0);
        let iban = analysis.finding(Validator::Iban);
        assert_eq!((iban.hits, iban.sampled, iban.example), (0, 5, None));
    }

    #[test]
    fn mixed_columns_report_each_validator() {
        let samples = [
            "DE89 3704 0044 0532 0130 00",
            "GB82 WEST 1234 5698 7654 32",
            "NL91 ABNA 0417 1643 00",
            "DE89 3704 0044 0532 0130 01",
            "4242 4242 4242 4242",
            "192.0.2.1",
        ];
        let analysis = analyze(&samples, &SampleOptions::at(today()));
        assert_eq!(analysis.sampled, 6);
        let found: Vec<_> = analysis.findings.iter().map(|f| (f.validator, f.hits)).collect();
        assert_eq!(found, [(Validator::Iban, 3), (Validator::Card, 1), (Validator::IpAddress, 1)]);
        // 3 of 6 is below the default 0.6 ...
        assert_eq!(analysis.proposals(0.6).count(), 0);
        // ... and enough at 0.5.
        assert_eq!(analysis.proposals(0.5).map(|f| f.validator).collect::<Vec<_>>(), [Validator::Iban]);
    }

    #[test]
    fn empty_and_all_blank_samples_give_no_ratio() {
        for samples in [&[][..], &["", " ", "\n"][..]] {
            let analysis = analyze(samples, &SampleOptions::at(today()));
            assert_eq!(analysis.sampled, 0);
            assert!(analysis.findings.is_empty());
            assert_eq!(analysis.finding(Validator::Email).ratio(), 0.0);
            assert_eq!(analysis.proposals(0.0).count(), 0);
        }
    }

    #[test]
    fn only_max_samples_values_are_examined() {
        let samples = ["a@example.com"; 10];
        let options = SampleOptions { max_samples: 3, ..SampleOptions::at(today()) };
        let analysis = analyze(&samples, &options);
        assert_eq!(analysis.sampled, 3);
        assert_eq!(analysis.finding(Validator::Email).hits, 3);
    }

    #[test]
    fn dates_of_birth_are_judged_against_the_given_day() {
        let samples = ["2014-06-01", "2015-01-01"];
        let early = analyze(&samples, &SampleOptions::at(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()));
        assert_eq!(early.finding(Validator::DateOfBirth).hits, 0);
        let late = analyze(&samples, &SampleOptions::at(today()));
        assert_eq!(late.finding(Validator::DateOfBirth).hits, 2);
    }

    /// A small deterministic generator so the property tests need no extra crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn digits(&mut self, n: usize) -> String {
            (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
        }
        fn pick(&mut self, alphabet: &str, n: usize) -> String {
            let chars: Vec<char> = alphabet.chars().collect();
            (0..n).map(|_| chars[self.below(chars.len())]).collect()
        }
    }

    fn random_valid(validator: Validator, rng: &mut Rng) -> Option<String> {
        let value = match validator {
            Validator::Email => {
                let local_len = 1 + rng.below(12);
                let domain_len = 1 + rng.below(12);
                let local = rng.pick("abcdefghijklmnopqrstuvwxyz0123456789._+-", local_len);
                let domain = rng.pick("abcdefghijklmnopqrstuvwxyz0123456789", domain_len);
                let tld = ["com", "de", "fr", "io", "nl", "es"][rng.below(6)];
                format!("{local}@{domain}.{tld}")
            }
            Validator::Phone => match rng.below(3) {
                0 => {
                    let len = 7 + rng.below(7);
                    format!("+{}{}", 1 + rng.below(9), rng.digits(len))
                }
                1 => format!("0{} {}", 1 + rng.below(9), rng.digits(8)),
                _ => format!("+{} {} {}", 1 + rng.below(9), rng.digits(3), rng.digits(6)),
            },
            Validator::Iban => {
                let (country, len) = [("DE", 22), ("FR", 27), ("NL", 18), ("ES", 24), ("NO", 15)][rng.below(5)];
                let bban = rng.pick("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", len - 4);
                // Compute the check digits the way a bank would.
                let probe = format!("{bban}{country}00");
                let mut rem: u32 = 0;
                for b in probe.bytes() {
                    rem = if b.is_ascii_digit() {
                        (rem * 10 + u32::from(b - b'0')) % 97
                    } else {
                        (rem * 100 + u32::from(b - b'A') + 10) % 97
                    };
                }
                format!("{country}{:02}{bban}", 98 - rem)
            }
            Validator::Card => {
                let len = 13 + rng.below(7);
                let body = format!("{}{}", 2 + rng.below(5), rng.digits(len - 2));
                (0..10).map(|d| format!("{body}{d}")).find(|c| validators::luhn_valid(c))?
            }
            Validator::MaskedCard => format!("************{}", rng.digits(4)),
            Validator::IpAddress => {
                if rng.below(2) == 0 {
                    format!("{}.{}.{}.{}", rng.below(256), rng.below(256), rng.below(256), rng.below(256))
                } else {
                    let groups: Vec<String> = (0..8).map(|_| format!("{:x}", rng.below(65536))).collect();
                    groups.join(":")
                }
            }
            Validator::DateOfBirth => {
                format!("{}-{:02}-{:02}", 1900 + rng.below(110), 1 + rng.below(12), 1 + rng.below(28))
            }
            Validator::Bsn => {
                let body = format!("{}{}", 1 + rng.below(9), rng.digits(7));
                let sum: u32 = body.bytes().zip((2..=9).rev()).map(|(b, w)| u32::from(b - b'0') * w).sum();
                let check = sum % 11;
                if check == 10 {
                    return None;
                }
                format!("{body}{check}")
            }
            Validator::DniNie => {
                let n = rng.below(100_000_000);
                format!("{n:08}{}", char::from(b"TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]))
            }
            Validator::Nir => {
                let body = format!("{}{}", 1 + rng.below(2), rng.digits(12));
                let n: u64 = body.parse().ok()?;
                format!("{body}{:02}", 97 - n % 97)
            }
            Validator::CodiceFiscale => {
                let letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
                let body = format!(
                    "{}{}{}{:02}{}{}",
                    rng.pick(letters, 6),
                    rng.digits(2),
                    rng.pick("ABCDEHLMPRST", 1),
                    1 + rng.below(28) + 40 * rng.below(2),
                    rng.pick(letters, 1),
                    rng.digits(3)
                );
                let odd =
                    [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
                let value = |b: u8| if b.is_ascii_digit() { usize::from(b - b'0') } else { usize::from(b - b'A') };
                let sum: usize =
                    body.bytes().enumerate().map(|(i, b)| if i % 2 == 0 { odd[value(b)] } else { value(b) }).sum();
                format!("{body}{}", char::from(b'A' + (sum % 26) as u8))
            }
            Validator::SteuerId => {
                let body = (0..500).map(|_| format!("{}{}", 1 + rng.below(9), rng.digits(9))).find(|b| {
                    let mut counts = [0; 10];
                    b.bytes().for_each(|d| counts[usize::from(d - b'0')] += 1);
                    counts.iter().filter(|&&c| c == 2).count() == 1 && counts.iter().all(|&c| c <= 2)
                })?;
                let mut product = 10;
                for d in body.bytes().map(|d| u32::from(d - b'0')) {
                    let sum = match (d + product) % 10 {
                        0 => 10,
                        s => s,
                    };
                    product = (sum * 2) % 11;
                }
                format!("{body}{}", (11 - product) % 10)
            }
            Validator::UsSsn => {
                format!("{}-{}-{}", 100 + rng.below(500), 10 + rng.below(90), 1000 + rng.below(9000))
            }
        };
        validator.matches(&value, today()).then_some(value)
    }

    /// How many letters and digits a mask may show for each validator.
    fn revealed_limit(validator: Validator, value: &str) -> usize {
        match validator {
            Validator::Email => 2 + value.rsplit('.').next().map_or(0, str::len),
            Validator::Phone => 4,
            Validator::Iban => 6,
            Validator::Card => 4,
            Validator::MaskedCard => 4 + "masked".len(),
            Validator::IpAddress => 9,
            Validator::DateOfBirth => 2 + usize::from(value.contains('T')) + usize::from(value.ends_with('Z')),
            _ => 2,
        }
    }

    #[test]
    fn validators_and_masks_take_any_text_without_panicking() {
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        let alphabet = "0123456789aZxX*+-./:@ ()%TtäöüßéñçœΩ€💳\u{0}\t\n٣";
        for _ in 0..20_000 {
            let len = rng.below(40);
            let text = rng.pick(alphabet, len);
            for validator in Validator::ALL {
                let hit = validator.matches(&text, today());
                let masked = validator.mask(&text);
                // Misses reveal nothing; hits always get a shaped mask.
                assert_eq!(masked == MASK, !hit, "{validator:?} {text:?} -> {masked:?}");
            }
        }
    }

    #[test]
    fn masks_never_contain_the_whole_value_for_random_inputs() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut checked_valid = 0;
        for _ in 0..5_000 {
            // Random strings in every validator's alphabet: most are rejected and become `***`.
            let len = 1 + rng.below(30);
            let noise = rng.pick("0123456789abcdefXYZ@.:+- *#/", len);
            for validator in Validator::ALL {
                let masked = validator.mask(&noise);
                if noise.chars().any(char::is_alphanumeric) {
                    assert!(!masked.contains(noise.trim()), "{validator:?} revealed {noise:?} as {masked:?}");
                }
            }
            // Random valid values: the mask must hide most of them.
            for validator in Validator::ALL {
                let Some(value) = random_valid(validator, &mut rng) else { continue };
                checked_valid += 1;
                let masked = validator.mask(&value);
                assert_ne!(masked, MASK, "{validator:?} failed to mask valid {value:?}");
                assert!(!masked.contains(&value), "{validator:?} revealed {value:?} as {masked:?}");
                let shown = masked.chars().filter(|c| c.is_alphanumeric()).count();
                assert!(
                    shown <= revealed_limit(validator, &value),
                    "{validator:?} showed {shown} characters of {value:?}: {masked:?}"
                );
            }
        }
        assert!(checked_valid > 30_000, "too few valid values generated: {checked_valid}");
    }
}
