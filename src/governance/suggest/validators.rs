//! Value validators: each answers "is this one value an X?" for a format that can be checked
//! exactly (a checksum, a check letter, a registry length) or at least tightly (e-mail syntax,
//! phone shapes, calendar dates). Pure functions over `&str`; surrounding whitespace is ignored,
//! anything else that does not fit the format is a miss, never a panic.
//!
//! National ids implemented: Dutch BSN (11-test), Spanish DNI and NIE (check letter), French NIR
//! (INSEE key), Italian codice fiscale (check character), German Steuer-ID (ISO 7064 MOD 11,10 and
//! the repeated-digit rule) and the US SSN (structure only: it has no check digit, so only the
//! dashed `AAA-GG-SSSS` form counts).

use std::net::{Ipv4Addr, Ipv6Addr};

use chrono::{Datelike, Months, NaiveDate, Utc};

/// A reasonable subset of RFC 5322 `addr-spec` (with RFC 6531 non-ASCII letters): a dot-atom
/// local part, `@`, and a domain of at least two labels whose last is alphabetic (or punycode).
/// Quoted local parts and domain literals (`[192.0.2.1]`) are refused: they are legal but no
/// customer table holds them, and accepting them would let odd strings count as e-mails.
pub fn is_email(value: &str) -> bool {
    let value = value.trim();
    if value.len() > 254 {
        return false;
    }
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    is_email_local(local) && is_domain(domain)
}

fn is_email_local(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            c.is_ascii_alphanumeric() || c == '.' || SPECIALS.contains(c) || (!c.is_ascii() && c.is_alphanumeric())
        })
}

fn is_domain(domain: &str) -> bool {
    if domain.is_empty() || domain.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric()))
    };
    if !labels.iter().all(label_ok) {
        return false;
    }
    let tld = labels[labels.len() - 1];
    let punycode = tld.len() > 4 && tld.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("xn--"));
    punycode || (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
}

/// Strict E.164: `+`, a non-zero first digit, 8 to 15 digits, nothing else.
pub fn is_e164(value: &str) -> bool {
    let value = value.trim();
    let Some(digits) = value.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// A phone number as people write it: E.164 with or without separators (`+49 30 1234567`), the
/// `00` international prefix, a national number with a trunk `0` (`030 1234567`, `06-12345678`,
/// `01 23 45 67 89`) or a North American number written with separators (`(212) 555-0147`).
pub fn is_phone(value: &str) -> bool {
    normalize_phone(value).is_some()
}

/// The digits of a phone number in the shapes [`is_phone`] accepts: `+` and the digits for an
/// international number, the national digits (trunk `0` kept) otherwise. Without the country the
/// number was dialled from a national number cannot become E.164, so it stays national.
pub fn normalize_phone(value: &str) -> Option<String> {
    let value = value.trim();
    let (plus, rest) = match value.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let mut digits = String::with_capacity(rest.len());
    let mut separators = 0;
    // Start as if after a separator so that a leading separator is refused.
    let mut after_separator = true;
    // Digit positions of the one allowed parenthesised group, e.g. `(212)` or `(0)`.
    let mut group: Option<(usize, Option<usize>)> = None;
    for c in rest.chars() {
        match c {
            '0'..='9' => {
                digits.push(c);
                after_separator = false;
            }
            ' ' | '-' | '.' | '/' => {
                let inside_group = matches!(group, Some((_, None)));
                if after_separator || inside_group {
                    return None;
                }
                separators += 1;
                after_separator = true;
            }
            '(' if group.is_none() => group = Some((digits.len(), None)),
            ')' => match group {
                Some((start, None)) if digits.len() > start => {
                    group = Some((start, Some(digits.len())));
                    separators += 1;
                    after_separator = false;
                }
                _ => return None,
            },
            _ => return None,
        }
    }
    if after_separator || matches!(group, Some((_, None))) {
        return None;
    }
    let nonzero_start = |d: &str| d.as_bytes().first().is_some_and(|b| (b'1'..=b'9').contains(b));
    if plus {
        // `+49 (0)30 …`: the bracketed trunk zero is not dialled from abroad.
        if let Some((start, Some(end))) = group
            && &digits[start..end] == "0"
        {
            digits.remove(start);
        }
        return ((8..=15).contains(&digits.len()) && nonzero_start(&digits)).then(|| format!("+{digits}"));
    }
    if let Some(international) = digits.strip_prefix("00") {
        return ((9..=15).contains(&international.len()) && nonzero_start(international))
            .then(|| format!("+{international}"));
    }
    if let Some(national) = digits.strip_prefix('0') {
        return ((8..=11).contains(&national.len()) && nonzero_start(national)).then_some(digits);
    }
    // North American numbers: only with separators, since a bare 10-digit number is as likely a
    // Unix timestamp or an account number. Area code and exchange never start with 0 or 1.
    let nanp = match digits.len() {
        10 => Some(digits.as_str()),
        11 => digits.strip_prefix('1'),
        _ => None,
    };
    let nanp_ok = |d: &str| {
        let b = d.as_bytes();
        b.len() == 10 && (b'2'..=b'9').contains(&b[0]) && (b'2'..=b'9').contains(&b[3])
    };
    match nanp {
        Some(d) if separators > 0 && nanp_ok(d) => Some(format!("+1{d}")),
        _ => None,
    }
}

/// IBAN lengths by country, from the SWIFT IBAN registry.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// The IBAN length of a country (ISO 3166 alpha-2, upper case), if it uses IBANs.
pub fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS.iter().find(|(code, _)| *code == country).map(|&(_, len)| len)
}

/// The IBAN in electronic form (upper case, no spaces), or `None` unless it has a registered
/// country, that country's length, check digits 02–98 and passes ISO 7064 MOD 97-10.
pub fn compact_iban(value: &str) -> Option<String> {
    let compact: String = value.trim().chars().filter(|&c| c != ' ').map(|c| c.to_ascii_uppercase()).collect();
    if !compact.bytes().all(|b| b.is_ascii_alphanumeric()) || compact.len() < 4 {
        return None;
    }
    let bytes = compact.as_bytes();
    if !bytes[..2].iter().all(u8::is_ascii_uppercase) || !bytes[2..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if iban_length(&compact[..2]) != Some(compact.len()) || matches!(&compact[2..4], "00" | "01" | "99") {
        return None;
    }
    let rearranged = bytes[4..].iter().chain(&bytes[..4]);
    let mut remainder: u32 = 0;
    for &b in rearranged {
        remainder = if b.is_ascii_digit() {
            (remainder * 10 + u32::from(b - b'0')) % 97
        } else {
            (remainder * 100 + u32::from(b - b'A') + 10) % 97
        };
    }
    (remainder == 1).then_some(compact)
}

/// An IBAN, printed (groups of four) or electronic, with its country's length and a valid
/// MOD 97-10 checksum.
pub fn is_iban(value: &str) -> bool {
    compact_iban(value).is_some()
}

/// The Luhn (mod 10) check over a string of ASCII digits; false for anything else or empty.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Digits of a number written in groups separated by single spaces or dashes (`4242 4242`,
/// `4242-4242`), or `None` if anything else appears or a separator is doubled, leading or
/// trailing.
fn grouped_digits(value: &str, separators: &[char]) -> Option<String> {
    let mut digits = String::with_capacity(value.len());
    let mut previous_separator = true;
    for c in value.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            previous_separator = false;
        } else if separators.contains(&c) && !previous_separator {
            previous_separator = true;
        } else {
            return None;
        }
    }
    (!previous_separator).then_some(digits)
}

/// A full payment card number: 13 to 19 digits (spaces or dashes between groups), a Luhn-valid
/// check digit, and a major-industry digit of a payment network (2 to 6: Mastercard 2-series,
/// Amex/Diners/JCB, Visa, Mastercard/Maestro, Discover/UnionPay). Airline (1) and other
/// industry numbers are not payment cards and would only add false positives.
pub fn is_card_number(value: &str) -> bool {
    let Some(digits) = grouped_digits(value.trim(), &[' ', '-']) else {
        return false;
    };
    (13..=19).contains(&digits.len()) && matches!(digits.as_bytes()[0], b'2'..=b'6') && luhn_valid(&digits)
}

fn is_mask_char(c: char) -> bool {
    matches!(c, '*' | 'X' | 'x' | '•' | '#')
}

/// A card number masked for display (`**** **** **** 4242`, `424242******4242`,
/// `XXXX-XXXX-XXXX-1234`): 12 to 19 positions, only the last four and optionally the first six
/// digits visible. Not a card number, but a sign that the column is about cards.
pub fn is_masked_card(value: &str) -> bool {
    let value = value.trim();
    let mut positions: Vec<char> = Vec::with_capacity(value.len());
    let mut previous_separator = true;
    for c in value.chars() {
        if c.is_ascii_digit() || is_mask_char(c) {
            positions.push(c);
            previous_separator = false;
        } else if matches!(c, ' ' | '-') && !previous_separator {
            previous_separator = true;
        } else {
            return false;
        }
    }
    if previous_separator || !(12..=19).contains(&positions.len()) {
        return false;
    }
    let n = positions.len();
    let (head, tail) = positions.split_at(n - 4);
    if !tail.iter().all(char::is_ascii_digit) {
        return false;
    }
    let leading_digits = head.iter().take_while(|c| c.is_ascii_digit()).count();
    let masked = &head[leading_digits..];
    (leading_digits == 0 || leading_digits == 6) && masked.len() >= 4 && masked.iter().all(|&c| is_mask_char(c))
}

/// A dotted-quad IPv4 address as std parses it (no leading zeros, no shorthand).
pub fn is_ipv4(value: &str) -> bool {
    value.trim().parse::<Ipv4Addr>().is_ok()
}

/// An IPv6 address as std parses it, optionally with a zone (`fe80::1%eth0`).
pub fn is_ipv6(value: &str) -> bool {
    let value = value.trim();
    let address = match value.split_once('%') {
        Some((address, zone)) => {
            let zone_ok = !zone.is_empty() && zone.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !zone_ok {
                return false;
            }
            address
        }
        None => value,
    };
    address.parse::<Ipv6Addr>().is_ok()
}

/// IPv4 or IPv6.
pub fn is_ip(value: &str) -> bool {
    is_ipv4(value) || is_ipv6(value)
}

/// A calendar date in ISO form (`1985-03-14`, optionally with a midnight time, `1985/03/14`) or
/// a European one (`14.03.1985`, `14/03/1985`, `14-03-1985`, days and months with one or two
/// digits). A slashed date that is impossible as day/month is tried as month/day. Two-digit
/// years are refused: they cannot be told from other numbers.
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    let value = value.trim();
    let (date, time) = match value.split_once(['T', ' ']) {
        Some((date, time)) => (date, Some(time)),
        None => (value, None),
    };
    if let Some(time) = time {
        // A date of birth stored in a timestamp column is midnight; another time is an event.
        let time = time.trim_end_matches('Z');
        let time = time.strip_suffix("+00:00").or_else(|| time.strip_suffix("+0000")).unwrap_or(time);
        let (hms, fraction) = time.split_once('.').unwrap_or((time, "0"));
        if !matches!(hms, "00:00" | "00:00:00") || fraction.is_empty() || !fraction.bytes().all(|b| b == b'0') {
            return None;
        }
    }
    let separator = date.chars().find(|c| !c.is_ascii_digit())?;
    if !matches!(separator, '-' | '.' | '/') {
        return None;
    }
    let parts: Vec<&str> = date.split(separator).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let number = |s: &str, min_len: usize, max_len: usize| -> Option<u32> {
        if (min_len..=max_len).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if a.len() == 4 {
        if separator == '.' {
            return None;
        }
        let year = i32::try_from(number(a, 4, 4)?).ok()?;
        return NaiveDate::from_ymd_opt(year, number(b, 2, 2)?, number(c, 2, 2)?);
    }
    let year = i32::try_from(number(c, 4, 4)?).ok()?;
    let (first, second) = (number(a, 1, 2)?, number(b, 1, 2)?);
    NaiveDate::from_ymd_opt(year, second, first)
        .or_else(|| if separator == '/' { NaiveDate::from_ymd_opt(year, first, second) } else { None })
}

/// A date that can be a living person's date of birth, as of today (UTC): see
/// [`is_date_of_birth_on`].
pub fn is_date_of_birth(value: &str) -> bool {
    is_date_of_birth_on(value, Utc::now().date_naive())
}

/// A date ([`parse_date`]) from 1900-01-01 up to ten years before `today`: customers, patients
/// and employees are rarely younger, and recent dates are far more often events than births.
pub fn is_date_of_birth_on(value: &str, today: NaiveDate) -> bool {
    let Some(date) = parse_date(value) else {
        return false;
    };
    let latest = today.checked_sub_months(Months::new(120)).unwrap_or(NaiveDate::MIN);
    date.year() >= 1900 && date <= latest
}

/// Digits of `value` after removing the given separators, if only digits remain.
fn digits_without(value: &str, separators: &[char]) -> Option<Vec<u32>> {
    value.trim().chars().filter(|c| !separators.contains(c)).map(|c| c.to_digit(10)).collect()
}

/// Dutch BSN (burgerservicenummer): nine digits (eight when a leading zero was lost to an
/// integer column), optionally dotted `1234.56.782`, passing the 11-test
/// `9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 (mod 11)`; all zeros is refused.
pub fn is_bsn(value: &str) -> bool {
    let Some(mut digits) = digits_without(value, &['.', ' ']) else {
        return false;
    };
    if digits.len() == 8 {
        digits.insert(0, 0);
    }
    if digits.len() != 9 || digits.iter().all(|&d| d == 0) {
        return false;
    }
    let weighted: i64 = digits[..8].iter().zip((2..=9).rev()).map(|(&d, w)| i64::from(d) * w).sum();
    (weighted - i64::from(digits[8])) % 11 == 0
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Spanish DNI (`12345678Z`) or NIE (`X1234567L`, X/Y/Z standing for 0/1/2): eight digits and
/// the check letter `TRWAGMYFPDXBNJZSQVHLCKE[n mod 23]`; a dash or space before the letter is
/// allowed, case is not significant.
pub fn is_dni_nie(value: &str) -> bool {
    let compact: Vec<u8> =
        value.trim().bytes().filter(|b| !matches!(b, b'-' | b' ' | b'.')).map(|b| b.to_ascii_uppercase()).collect();
    if compact.len() != 9 {
        return false;
    }
    let mut number: u32 = match compact[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        b'0'..=b'9' => u32::from(compact[0] - b'0'),
        _ => return false,
    };
    for &b in &compact[1..8] {
        if !b.is_ascii_digit() {
            return false;
        }
        number = number * 10 + u32::from(b - b'0');
    }
    DNI_LETTERS.get((number % 23) as usize) == Some(&compact[8])
}

/// French NIR ("numéro INSEE", social security number): 13 characters and a two-digit key equal to
/// `97 − (n mod 97)`, where Corsican departments 2A and 2B count as 19 and 18. Spaces or dots
/// between groups are allowed. The first digit must be a sex code in use (1, 2, 3, 4, 7, 8).
pub fn is_nir(value: &str) -> bool {
    let compact: Vec<u8> =
        value.trim().bytes().filter(|b| !matches!(b, b' ' | b'.')).map(|b| b.to_ascii_uppercase()).collect();
    if compact.len() != 15 || !matches!(compact[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') {
        return false;
    }
    let department: &[u8] = match &compact[5..7] {
        b"2A" => b"19",
        b"2B" => b"18",
        other => other,
    };
    let body = compact[..5].iter().chain(department).chain(&compact[7..13]);
    let mut n: u64 = 0;
    for &b in body {
        if !b.is_ascii_digit() {
            return false;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    let key = &compact[13..];
    if !key.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let key = u64::from(key[0] - b'0') * 10 + u64::from(key[1] - b'0');
    key == 97 - n % 97
}

/// Value of a codice fiscale character in an odd (1st, 3rd, …) position of the check computation.
const CF_ODD: [u32; 26] =
    [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
/// Digits replaced by these letters when two people would get the same code ("omocodia").
const CF_OMOCODE: &str = "LMNPQRSTUV";
const CF_MONTHS: &str = "ABCDEHLMPRST";

/// Italian codice fiscale of a person: six letters (surname, name), year, month letter, day
/// (plus 40 for women), place code, and the check character over the first fifteen. Digits
/// replaced for omocodia (`LMNPQRSTUV`) are accepted. The eleven-digit company form is not a
/// person's and is not accepted.
pub fn is_codice_fiscale(value: &str) -> bool {
    let code: Vec<char> = value.trim().chars().filter(|&c| c != ' ').map(|c| c.to_ascii_uppercase()).collect();
    if code.len() != 16 || !code.iter().all(char::is_ascii_alphanumeric) {
        return false;
    }
    let letter = |i: usize| code[i].is_ascii_uppercase();
    let digit_value = |i: usize| code[i].to_digit(10).or_else(|| CF_OMOCODE.find(code[i]).map(|p| p as u32));
    if !(0..6).all(letter) || !letter(8) || !letter(11) || !letter(15) || !CF_MONTHS.contains(code[8]) {
        return false;
    }
    let mut encoded = [0u32; 7];
    for (slot, i) in encoded.iter_mut().zip([6, 7, 9, 10, 12, 13, 14]) {
        match digit_value(i) {
            Some(v) => *slot = v,
            None => return false,
        }
    }
    let day = encoded[2] * 10 + encoded[3];
    if !(1..=31).contains(&(day % 40)) || !(day <= 31 || (41..=71).contains(&day)) {
        return false;
    }
    let value_of = |c: char| -> u32 { if c.is_ascii_digit() { c as u32 - '0' as u32 } else { c as u32 - 'A' as u32 } };
    let sum: u32 = code[..15]
        .iter()
        .enumerate()
        .map(|(i, &c)| if i % 2 == 0 { CF_ODD[value_of(c) as usize] } else { value_of(c) })
        .sum();
    char::from(b'A' + (sum % 26) as u8) == code[15]
}

/// German Steuer-ID (steuerliche Identifikationsnummer): eleven digits, no leading zero; in the
/// first ten exactly one digit occurs two or three times and every other at most once; the last
/// is the ISO 7064 MOD 11,10 check digit. Spaces, dashes, dots and slashes between groups are
/// allowed.
pub fn is_steuer_id(value: &str) -> bool {
    let Some(digits) = digits_without(value, &[' ', '-', '.', '/']) else {
        return false;
    };
    if digits.len() != 11 || digits[0] == 0 {
        return false;
    }
    let mut counts = [0u8; 10];
    for &d in &digits[..10] {
        counts[d as usize] += 1;
    }
    let repeated: Vec<u8> = counts.iter().copied().filter(|&c| c > 1).collect();
    if !matches!(repeated.as_slice(), [2] | [3]) {
        return false;
    }
    let mut product = 10;
    for &d in &digits[..10] {
        let mut sum = (d + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    (11 - product) % 10 == digits[10]
}

/// US Social Security number in its written form `AAA-GG-SSSS`: area 001–899 except 666, group
/// 01–99, serial 0001–9999. There is no check digit, so bare nine-digit numbers are not counted
/// (they would be any number at all, and collide with the BSN).
pub fn is_us_ssn(value: &str) -> bool {
    let parts: Vec<&str> = value.trim().split('-').collect();
    let [area, group, serial] = parts.as_slice() else {
        return false;
    };
    let number = |s: &str, len: usize| -> Option<u32> {
        if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None }
    };
    match (number(area, 3), number(group, 2), number(serial, 4)) {
        (Some(a), Some(g), Some(s)) => (1..900).contains(&a) && a != 666 && g != 0 && s != 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, f: fn(&str) -> bool, valid: &[&str], invalid: &[&str]) {
        for v in valid {
            assert!(f(v), "{name}: expected {v:?} to be valid");
        }
        for v in invalid {
            assert!(!f(v), "{name}: expected {v:?} to be invalid");
        }
    }

    #[test]
    fn emails() {
        check(
            "email",
            is_email,
            &[
                "anna@example.com",
                "Anna.Berg+news@mail.example.co.uk",
                "o'brien@example.ie",
                "x@ex.io",
                "  padded@example.org ",
                "user_name-1@sub-domain.example.de",
                "jürgen@müller.de",
                "a@xn--mller-kva.de",
                "a@b.xn--p1ai",
                "a@b.xäää",
                "!#$%&'*+/=?^_`{|}~-@example.com",
            ],
            &[
                "",
                "@",
                "anna",
                "anna@",
                "@example.com",
                "anna@example",
                "anna@@example.com",
                "anna@exa@mple.com",
                ".anna@example.com",
                "anna.@example.com",
                "an..na@example.com",
                "anna@example..com",
                "anna@-example.com",
                "anna@example-.com",
                "anna@example.c",
                "anna@example.123",
                "anna berg@example.com",
                "anna@exa mple.com",
                "\"anna\"@example.com",
                "anna@[192.0.2.1]",
                "anna@.example.com",
                "anna@example.com.",
                "mailto:anna@example.com",
                "anna(at)example.com",
            ],
        );
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(!is_email(&long_local));
        let ok_local = format!("{}@example.com", "a".repeat(64));
        assert!(is_email(&ok_local));
        let long_label = format!("a@{}.com", "b".repeat(64));
        assert!(!is_email(&long_label));
        let too_long = format!("a@{}.com", vec!["b".repeat(60); 5].join("."));
        assert!(!is_email(&too_long));
    }

    #[test]
    fn phones() {
        check(
            "e164",
            is_e164,
            &["+4930123456", "+14155550123", "+31612345678", "+123456789012345", "+12345678"],
            &["+0123456789", "+1234567", "+1234567890123456", "4930123456", "+49 30 123456", "+49-30-123456", "+", ""],
        );
        check(
            "phone",
            is_phone,
            &[
                "+4930123456",
                "+49 30 1234567",
                "+49-30-1234567",
                "+49 (0)30 1234567",
                "+33 1 23 45 67 89",
                "0049 30 1234567",
                "0033123456789",
                "030 1234567",
                "030/1234567",
                "06-12345678",
                "0612345678",
                "01 23 45 67 89",
                "01.23.45.67.89",
                "(212) 555-0147",
                "212-555-0147",
                "1-212-555-0147",
                "+1 (212) 555-0147",
                "0171 1234567",
            ],
            &[
                "",
                "+",
                "+49",
                "+0 30 1234567",
                "12345",
                "1700000000",
                "2125550147",
                "0012345678",
                "0000012345",
                "01-02-2020",
                "2020-01-02",
                "1990.05.12",
                "192.168.1.1",
                "030 1234567 ext 12",
                "030--1234567",
                "030 1234567-",
                "(030 1234567",
                "((030)) 1234567",
                "112-555-0147",
                "212-155-0147",
                "abc",
                "+49 30 12345678901234",
                "030 (12) (34) 567",
                "-030 1234567",
            ],
        );
        assert_eq!(normalize_phone("+49 (0)30 1234567").as_deref(), Some("+49301234567"));
        assert_eq!(normalize_phone("0049 30 1234567").as_deref(), Some("+49301234567"));
        assert_eq!(normalize_phone("(212) 555-0147").as_deref(), Some("+12125550147"));
        assert_eq!(normalize_phone("030 1234567").as_deref(), Some("0301234567"));
        assert_eq!(normalize_phone("+31 6 1234 5678").as_deref(), Some("+31612345678"));
    }

    #[test]
    fn ibans() {
        // Valid examples from national bank documentation; each invalid one is a valid IBAN with
        // one character changed, a wrong length, or an unknown country.
        check(
            "iban",
            is_iban,
            &[
                "DE89 3704 0044 0532 0130 00",
                "DE89370400440532013000",
                "de89370400440532013000",
                "GB82 WEST 1234 5698 7654 32",
                "FR14 2004 1010 0505 0001 3M02 606",
                "NL91 ABNA 0417 1643 00",
                "ES91 2100 0418 4502 0005 1332",
                "BE71 0961 2345 6769",
                "CH93 0076 2011 6238 5295 7",
                "IT60 X054 2811 1010 0000 0123 456",
                "AT61 1904 3002 3457 3201",
                "NO93 8601 1117 947",
                "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
                "PL61 1090 1014 0000 0712 1981 2874",
            ],
            &[
                "",
                "DE89 3704 0044 0532 0130 01",
                "DE88 3704 0044 0532 0130 00",
                "DE89 3704 0044 0532 0131 00",
                "DE89 3704 0044 0532 0130 0",
                "DE89 3704 0044 0532 0130 000",
                "GB82 WEST 1234 5698 7654 33",
                "GB82 WEST 1234 5698 7654 3",
                "FR14 2004 1010 0505 0001 3M02 607",
                "NL91 ABNA 0417 1643 01",
                "NL92 ABNA 0417 1643 00",
                "ES91 2100 0418 4502 0005 1333",
                "BE71 0961 2345 6768",
                "CH93 0076 2011 6238 5295 8",
                "IT60 X054 2811 1010 0000 0123 457",
                "NO93 8601 1117 948",
                "XX89 3704 0044 0532 0130 00",
                "89DE 3704 0044 0532 0130 00",
                "DE89-3704-0044-0532-0130-00",
                "DE",
                "DE89",
            ],
        );
        assert_eq!(iban_length("DE"), Some(22));
        assert_eq!(iban_length("US"), None);
        assert_eq!(compact_iban(" nl91 abna 0417 1643 00 ").as_deref(), Some("NL91ABNA0417164300"));
    }

    #[test]
    fn iban_check_digits_00_01_99_are_refused_even_when_congruent() {
        // 97 ≡ 00 (mod 97): replacing a valid check "97" by "00" keeps the remainder but is not
        // an IBAN. Find a German account whose check digits are 97 and 98 (≡ 01) and test both.
        let mut found = 0;
        for account in 0..20_000u32 {
            let bban = format!("37040044{account:010}");
            for check in ["97", "98"] {
                let iban = format!("DE{check}{bban}");
                if is_iban(&iban) {
                    let replaced = if check == "97" { "00" } else { "01" };
                    assert!(!is_iban(&format!("DE{replaced}{bban}")));
                    found += 1;
                }
            }
        }
        assert!(found >= 2, "no IBAN with check digits 97/98 found");
    }

    #[test]
    fn cards() {
        check(
            "luhn",
            luhn_valid,
            &["0", "18", "4242424242424242", "79927398713", "0000000000000000"],
            &["", "1", "4242424242424241", "79927398710", "4242 4242 4242 4242", "a"],
        );
        check(
            "card",
            is_card_number,
            &[
                "4242424242424242",
                "4242 4242 4242 4242",
                "4242-4242-4242-4242",
                "4111111111111111",
                "5555555555554444",
                "2223003122003222",
                "378282246310005",
                "3782 822463 10005",
                "6011111111111117",
                "3530111333300000",
                "4222222222222",
                "6200000000000005",
                "4000056655665556",
            ],
            &[
                "",
                "4242424242424241",
                "4242 4242 4242 4243",
                "4242  4242 4242 4242",
                "4242 4242 4242 4242-",
                "-4242424242424242",
                "4242_4242_4242_4242",
                "0000000000000000",
                "1234567812345670",
                "7992739871300",
                "424242424242",
                "42424242424242424242",
                "**** **** **** 4242",
                "4242.4242.4242.4242",
            ],
        );
        check(
            "masked card",
            is_masked_card,
            &[
                "**** **** **** 4242",
                "************4242",
                "XXXX-XXXX-XXXX-1234",
                "xxxx xxxx xxxx 1234",
                "424242******4242",
                "•••• •••• •••• 4242",
                "**** ****** *0005",
                "#### #### #### 4242",
            ],
            &[
                "",
                "4242424242424242",
                "**** **** **** ****",
                "**** **** **** 424",
                "****4242",
                "4242 **** **** ****",
                "42424*******4242",
                "42**4242********4242",
                "**** **** **** 4242-",
                "****  **** **** 4242",
                "**** **** ***a 4242",
            ],
        );
    }

    #[test]
    fn ip_addresses() {
        check(
            "ipv4",
            is_ipv4,
            &["192.0.2.1", "0.0.0.0", "255.255.255.255", " 10.0.0.1 ", "127.0.0.1"],
            &[
                "",
                "256.0.0.1",
                "1.2.3",
                "1.2.3.4.5",
                "01.2.3.4",
                "1.2.3.04",
                "1.2.3.-4",
                "1.2.3.4/24",
                "1.2.3.4:80",
                "a.b.c.d",
                "::1",
            ],
        );
        check(
            "ipv6",
            is_ipv6,
            &[
                "::1",
                "::",
                "2001:db8::1",
                "2001:0db8:0000:0000:0000:ff00:0042:8329",
                "::ffff:192.0.2.1",
                "fe80::1%eth0",
                "FE80::1",
            ],
            &[
                "",
                "1::2::3",
                "2001:db8::g",
                "12345::1",
                "fe80::1%",
                "fe80::1%eth 0",
                "[::1]",
                "192.0.2.1",
                "2001:db8:1:2:3:4:5:6:7",
            ],
        );
        assert!(is_ip("192.0.2.1") && is_ip("2001:db8::1") && !is_ip("localhost"));
    }

    #[test]
    fn dates_of_birth() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 10).unwrap();
        let valid = [
            "1985-03-14",
            "1985/03/14",
            "1985-03-14T00:00:00",
            "1985-03-14 00:00:00",
            "1985-03-14T00:00:00Z",
            "1985-03-14T00:00:00.000Z",
            "1985-03-14 00:00:00+00:00",
            "14.03.1985",
            "4.3.1985",
            "14/03/1985",
            "03/14/1985",
            "14-03-1985",
            "1900-01-01",
            "29.02.2000",
            "2016-05-10",
        ];
        let invalid = [
            "",
            "1899-12-31",
            "2016-05-11",
            "2025-01-01",
            "1985-02-30",
            "30.02.1985",
            "29.02.1985",
            "1985-13-01",
            "13/13/1985",
            "14.03.85",
            "85-03-14",
            "1985.03.14",
            "14-3-85",
            "1985-3-14",
            "19850314",
            "1985-03-14T10:15:00",
            "1985-03-14 12:00:00",
            "1985-03-14T00:00:00.5",
            "14 03 1985",
            "14.03.1985.",
            "some day",
            "1985-03-14-01",
        ];
        for v in valid {
            assert!(is_date_of_birth_on(v, today), "{v:?} should be a date of birth");
        }
        for v in invalid {
            assert!(!is_date_of_birth_on(v, today), "{v:?} should not be a date of birth");
        }
        assert_eq!(parse_date("03/14/1985"), NaiveDate::from_ymd_opt(1985, 3, 14));
        // Day first when both readings are possible, as in Europe.
        assert_eq!(parse_date("04/03/1985"), NaiveDate::from_ymd_opt(1985, 3, 4));
        assert_eq!(parse_date("04-13-1985"), None);
        // The clock-reading variant agrees on dates far from the boundaries.
        assert!(is_date_of_birth("1970-01-01"));
        assert!(!is_date_of_birth("1800-01-01"));
        // Leap day boundary: ten years before 2026-02-28 is 2016-02-28.
        let feb = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
        assert!(is_date_of_birth_on("2016-02-28", feb));
        assert!(!is_date_of_birth_on("2016-02-29", feb));
    }

    #[test]
    fn bsn() {
        check(
            "bsn",
            is_bsn,
            &["111222333", "123456782", "1234.56.782", "010000008", "10000008", " 123456782 "],
            &[
                "",
                "123456781",
                "123456783",
                "111222334",
                "000000000",
                "12345678",
                "1234567820",
                "12345678a",
                "1234-56-782",
            ],
        );
    }

    #[test]
    fn dni_nie() {
        check(
            "dni/nie",
            is_dni_nie,
            &["12345678Z", "12345678z", "12345678-Z", "00000000T", "X1234567L", "Y1234567X", "Z1234567R", "x1234567l"],
            &[
                "",
                "12345678A",
                "1234567Z",
                "123456789Z",
                "X1234567T",
                "A1234567L",
                "W1234567L",
                "12345678",
                "1234567ZZ",
                "X12345678L",
            ],
        );
    }

    #[test]
    fn nir() {
        check(
            "nir",
            is_nir,
            &["295109912611193", "2 95 10 99 126 111 93", "253072B07300470", "253072A07300443", "253072a07300443"],
            &[
                "",
                "295109912611199",
                "295109912611194",
                "395109912611193",
                "595109912611193",
                "253072C07300443",
                "253072B07300443",
                "29510991261119",
                "2951099126111930",
                "29510991261119A",
            ],
        );
    }

    #[test]
    fn codice_fiscale() {
        check(
            "codice fiscale",
            is_codice_fiscale,
            &["RCCMNL83S18D969H", "CNTCHR83T41D969D", "rccmnl83s18d969h", "RSSMRA85T10A562S", "RCCMNL83S1UD969E"],
            &[
                "",
                "RCCMNL83S18D969A",
                "RCCMNL83S1MD969H",
                "RCCMNL83S18D969",
                "RCCMNL83S18D969HH",
                "RCCMNL83F18D969H",
                "RCCMNL83S32D969H",
                "RCCMNL83S00D969H",
                "RCCMN183S18D969H",
                "00743110157",
                "RCCMNL83S18D96XH",
            ],
        );
    }

    #[test]
    fn steuer_id() {
        check(
            "steuer-id",
            is_steuer_id,
            &["36574261809", "36 574 261 809", "86095742719", "47036892816", "65929970489"],
            &[
                "",
                "36574261890",
                "36574261808",
                "36554266806",
                "06574261809",
                "3657426180",
                "365742618090",
                "11111111116",
                "12345678903",
            ],
        );
    }

    #[test]
    fn us_ssn() {
        check(
            "ssn",
            is_us_ssn,
            &["123-45-6789", "001-01-0001", "899-99-9999"],
            &[
                "",
                "123456789",
                "000-45-6789",
                "666-45-6789",
                "900-45-6789",
                "123-00-6789",
                "123-45-0000",
                "123-456-789",
                "12-345-6789",
                "abc-de-fghi",
            ],
        );
    }
}
