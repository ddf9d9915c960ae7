//! A fast path for sqlparser's tokenizer: the same tokens, with the same spans, for the
//! plain SQL most scripts are made of, several times faster (sqlparser's tokenizer reads
//! the text through a peekable char iterator, asks the dialect about every character
//! and binary-searches the keyword list with case folding on every comparison; here
//! bytes are scanned against tables built once per call and keywords are folded once).
//!
//! It handles words, quoted identifiers, numbers, strings, comments, blanks and common
//! punctuation, following `sqlparser::tokenizer` rule by rule for the dialect at hand.
//! On anything else (dialect-specific literals and operators, escapes, non-ASCII text
//! outside quotes and comments, anything unterminated) it returns `None` and the caller
//! uses sqlparser's tokenizer for the whole text, so the result never depends on which
//! path ran. A test compares both tokenizers on generated scripts for every dialect, and
//! `cargo bench --bench lineage` compares them on the whole throughput corpus.

use super::dialect::Engine;
use sqlparser::dialect::Dialect;
use sqlparser::keywords::{ALL_KEYWORDS, ALL_KEYWORDS_INDEX, Keyword};
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Whitespace, Word};

/// What the dialect says about each ASCII character, asked once per call.
struct Rules {
    ident_start: [bool; 128],
    ident_part: [bool; 128],
    custom_operator_part: [bool; 128],
    delimited_start: [bool; 128],
    nested_delimited_start: [bool; 128],
    backslash_escape: bool,
    ignores_wildcard_escapes: bool,
    triple_quotes: bool,
    hash_comment: bool,
    hash_comment_needs_space: bool,
    raw_strings: bool,
    byte_strings: bool,
    nested_comments: bool,
    comment_needs_space: bool,
    tuple_access: bool,
    literal_prefix_after_period: bool,
    comment_hints: bool,
    copy_stdin: bool,
    comment_stops_at_cr: bool,
}

impl Rules {
    fn new(engine: Engine) -> Rules {
        let d: &dyn Dialect = engine.dialect();
        let table = |f: &dyn Fn(char) -> bool| std::array::from_fn(|i| f(i as u8 as char));
        Rules {
            ident_start: table(&|c| d.is_identifier_start(c)),
            ident_part: table(&|c| d.is_identifier_part(c)),
            custom_operator_part: table(&|c| d.is_custom_operator_part(c)),
            delimited_start: table(&|c| d.is_delimited_identifier_start(c)),
            nested_delimited_start: table(&|c| d.is_nested_delimited_identifier_start(c)),
            backslash_escape: d.supports_string_literal_backslash_escape(),
            ignores_wildcard_escapes: d.ignores_wildcard_escapes(),
            triple_quotes: d.supports_triple_quoted_string(),
            hash_comment: d.supports_hash_comment(),
            hash_comment_needs_space: d.requires_hash_comment_space(),
            // sqlparser picks these by dialect type, not by a dialect setting.
            raw_strings: matches!(engine, Engine::BigQuery | Engine::Generic),
            byte_strings: matches!(engine, Engine::BigQuery | Engine::Postgres | Engine::MySql | Engine::Generic),
            nested_comments: d.supports_nested_comments(),
            comment_needs_space: d.requires_single_line_comment_whitespace(),
            tuple_access: d.supports_tuple_element_access(),
            literal_prefix_after_period: d.supports_literal_prefix_in_qualified_name(),
            comment_hints: d.supports_multiline_comment_hints(),
            copy_stdin: d.supports_copy_from_stdin_data(),
            comment_stops_at_cr: engine == Engine::Postgres,
        }
    }
}

/// sqlparser's keyword for an unquoted word: the same case-insensitive match against
/// [`ALL_KEYWORDS`], through a hash table built once instead of a binary search that
/// folds case on every comparison.
pub fn keyword(word: &str) -> Keyword {
    let mut buf = [0u8; 48];
    let bytes = word.as_bytes();
    if bytes.is_empty() || bytes.len() > buf.len() {
        return Keyword::NoKeyword;
    }
    let upper = &mut buf[..bytes.len()];
    upper.copy_from_slice(bytes);
    upper.make_ascii_uppercase();
    let table = KEYWORDS.get_or_init(KeywordTable::new);
    let mut slot = table.slot(upper);
    loop {
        match table.slots[slot] {
            u16::MAX => return Keyword::NoKeyword,
            i if ALL_KEYWORDS[i as usize].as_bytes() == upper => return ALL_KEYWORDS_INDEX[i as usize],
            _ => slot = (slot + 1) & (table.slots.len() - 1),
        }
    }
}

static KEYWORDS: std::sync::OnceLock<KeywordTable> = std::sync::OnceLock::new();

/// Open addressing over indexes into [`ALL_KEYWORDS`] (`u16::MAX`: empty).
struct KeywordTable {
    slots: Vec<u16>,
}

impl KeywordTable {
    fn new() -> KeywordTable {
        let size = (ALL_KEYWORDS.len() * 4).next_power_of_two();
        let mut table = KeywordTable { slots: vec![u16::MAX; size] };
        for (i, k) in ALL_KEYWORDS.iter().enumerate() {
            let mut slot = table.slot(k.as_bytes());
            while table.slots[slot] != u16::MAX {
                slot = (slot + 1) & (size - 1);
            }
            table.slots[slot] = i as u16;
        }
        table
    }

    /// FNV-1a of the upper-cased word.
    fn slot(&self, upper: &[u8]) -> usize {
        let hash = upper.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        (hash as usize) & (self.slots.len() - 1)
    }
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u64,
    col: u64,
    rules: Rules,
    out: Vec<TokenWithSpan>,
}

/// Tokenizes `text` as sqlparser's tokenizer would for `engine`, or `None` when the text
/// holds something this fast path leaves to sqlparser.
pub fn tokenize(text: &str, engine: Engine) -> Option<Vec<TokenWithSpan>> {
    tokenize_or_stop(text, engine).ok()
}

/// [`tokenize`], or the byte offset of what it leaves to sqlparser.
pub fn tokenize_or_stop(text: &str, engine: Engine) -> Result<Vec<TokenWithSpan>, usize> {
    let mut s = Scanner {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        col: 1,
        rules: Rules::new(engine),
        out: Vec::with_capacity(text.len() / 4 + 8),
    };
    while s.pos < s.bytes.len() {
        let start = s.location();
        let token = s.next_token().ok_or(s.pos)?;
        let span = Span::new(start, s.location());
        s.out.push(TokenWithSpan { token, span });
    }
    Ok(s.out)
}

impl Scanner<'_> {
    fn location(&self) -> Location {
        Location { line: self.line, column: self.col }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    /// Advances over `n` ASCII bytes on one line.
    fn bump(&mut self, n: usize) {
        self.pos += n;
        self.col += n as u64;
    }

    /// Advances over text up to byte `end`, counting lines and characters.
    fn advance_to(&mut self, end: usize) {
        for &b in &self.bytes[self.pos..end] {
            if b == b'\n' {
                self.line += 1;
                self.col = 1;
            } else if b & 0xC0 != 0x80 {
                self.col += 1;
            }
        }
        self.pos = end;
    }

    fn prev_token(&self) -> Option<&Token> {
        self.out.last().map(|t| &t.token)
    }

    /// The next character is not one sqlparser would fold into a custom operator.
    fn no_custom_operator(&self, ahead: usize) -> bool {
        self.peek(ahead).is_none_or(|c| c >= 128 || !self.rules.custom_operator_part[c as usize])
    }

    fn op(&mut self, len: usize, token: Token) -> Option<Token> {
        self.bump(len);
        Some(token)
    }

    /// A binary operator sqlparser reads with `start_binop`: the default token unless
    /// custom operator characters follow.
    fn binop(&mut self, len: usize, token: Token) -> Option<Token> {
        if !self.no_custom_operator(len) {
            return None;
        }
        self.op(len, token)
    }

    fn next_token(&mut self) -> Option<Token> {
        let c = self.bytes[self.pos];
        if c >= 128 {
            return None;
        }
        let rules = &self.rules;
        if rules.literal_prefix_after_period && self.prev_token() == Some(&Token::Period) && c.is_ascii_alphabetic() {
            return self.word();
        }
        match c {
            b' ' => self.op(1, Token::Whitespace(Whitespace::Space)),
            b'\t' => self.op(1, Token::Whitespace(Whitespace::Tab)),
            b'\n' => {
                self.pos += 1;
                self.line += 1;
                self.col = 1;
                Some(Token::Whitespace(Whitespace::Newline))
            }
            b'\r' => {
                self.bump(1);
                if self.peek(0) == Some(b'\n') {
                    self.pos += 1;
                    self.line += 1;
                    self.col = 1;
                }
                Some(Token::Whitespace(Whitespace::Newline))
            }
            b'b' | b'B' if rules.byte_strings && matches!(self.peek(1), Some(b'\'' | b'"')) => {
                let triple = rules.triple_quotes;
                match self.literal(1, false, triple)? {
                    (s, false) if self.bytes[self.pos - 1] == b'\'' => Some(Token::SingleQuotedByteStringLiteral(s)),
                    (s, false) => Some(Token::DoubleQuotedByteStringLiteral(s)),
                    (s, true) if self.bytes[self.pos - 1] == b'\'' => {
                        Some(Token::TripleSingleQuotedByteStringLiteral(s))
                    }
                    (s, true) => Some(Token::TripleDoubleQuotedByteStringLiteral(s)),
                }
            }
            b'r' | b'R' if rules.raw_strings && matches!(self.peek(1), Some(b'\'' | b'"')) => match self
                .literal(1, false, true)?
            {
                (s, false) if self.bytes[self.pos - 1] == b'\'' => Some(Token::SingleQuotedRawStringLiteral(s)),
                (s, false) => Some(Token::DoubleQuotedRawStringLiteral(s)),
                (s, true) if self.bytes[self.pos - 1] == b'\'' => Some(Token::TripleSingleQuotedRawStringLiteral(s)),
                (s, true) => Some(Token::TripleDoubleQuotedRawStringLiteral(s)),
            },
            b'\'' => match self.literal(0, rules.backslash_escape, rules.triple_quotes)? {
                (s, false) => Some(Token::SingleQuotedString(s)),
                (s, true) => Some(Token::TripleSingleQuotedString(s)),
            },
            b'"' if !rules.delimited_start[c as usize] && !rules.ident_start[c as usize] => {
                match self.literal(0, rules.backslash_escape, rules.triple_quotes)? {
                    (s, false) => Some(Token::DoubleQuotedString(s)),
                    (s, true) => Some(Token::TripleDoubleQuotedString(s)),
                }
            }
            _ if rules.delimited_start[c as usize] => self.quoted_identifier(c),
            _ if rules.nested_delimited_start[c as usize] => None,
            b'0'..=b'9' => self.number(),
            b'.' => self.period(),
            b'(' => self.op(1, Token::LParen),
            b')' => self.op(1, Token::RParen),
            b',' => self.op(1, Token::Comma),
            b';' => self.op(1, Token::SemiColon),
            b'[' => self.op(1, Token::LBracket),
            b']' => self.op(1, Token::RBracket),
            b'{' => self.op(1, Token::LBrace),
            b'}' => self.op(1, Token::RBrace),
            b'+' => self.op(1, Token::Plus),
            b'*' => self.op(1, Token::Mul),
            b'-' => match self.peek(1) {
                Some(b'-') => {
                    if rules.comment_needs_space && !self.peek(2).is_some_and(|c| c.is_ascii_whitespace()) {
                        return None;
                    }
                    self.line_comment(2, "--")
                }
                Some(b'>') => None,
                _ => self.binop(1, Token::Minus),
            },
            b'/' => match self.peek(1) {
                Some(b'*') => self.block_comment(),
                Some(b'/') => None,
                _ => self.op(1, Token::Div),
            },
            b'%' => match self.peek(1) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.op(1, Token::Mod),
                _ => None,
            },
            b'|' => match self.peek(1) {
                Some(b'|') if self.peek(2) != Some(b'/') => self.binop(2, Token::StringConcat),
                Some(b'|' | b'/' | b'&' | b'>') => None,
                _ => self.binop(1, Token::Pipe),
            },
            b'=' => match self.peek(1) {
                Some(b'>') => self.op(2, Token::RArrow),
                Some(b'=') => self.op(2, Token::DoubleEq),
                _ => self.op(1, Token::Eq),
            },
            b'!' => match self.peek(1) {
                Some(b'=') => self.op(2, Token::Neq),
                _ => None,
            },
            b'<' => match self.peek(1) {
                Some(b'=') => match self.peek(2) {
                    Some(b'>') => None,
                    Some(b'+' | b'-') => self.op(2, Token::LtEq),
                    _ => self.binop(2, Token::LtEq),
                },
                Some(b'>') => self.binop(2, Token::Neq),
                Some(b'|' | b'<' | b'+' | b'-' | b'^' | b'@') => None,
                _ => self.binop(1, Token::Lt),
            },
            b'>' => match self.peek(1) {
                Some(b'=') => self.binop(2, Token::GtEq),
                Some(b'>') => self.binop(2, Token::ShiftRight),
                Some(b'^') => None,
                _ => self.binop(1, Token::Gt),
            },
            b'&' => match self.peek(1) {
                Some(b'&' | b'<' | b'>') => None,
                _ => self.binop(1, Token::Ampersand),
            },
            b'#' if rules.hash_comment
                && (!rules.hash_comment_needs_space || matches!(self.peek(1), Some(b' ' | b'!'))) =>
            {
                self.line_comment(1, "#")
            }
            b'@' => self.at_sign(),
            b':' => match self.peek(1) {
                Some(b':') => self.op(2, Token::DoubleColon),
                Some(b'=') => self.op(2, Token::Assignment),
                _ => self.op(1, Token::Colon),
            },
            _ if rules.ident_start[c as usize] && (c.is_ascii_alphabetic() || c == b'_') => self.word(),
            _ => None,
        }
    }

    /// An unquoted word (sqlparser's `tokenize_identifier_or_keyword`). Words glued to a
    /// quote or `&` may be literal prefixes (`b'..'`, `N'..'`, `U&'..'`): left to sqlparser.
    fn word(&mut self) -> Option<Token> {
        let end = self.word_end(self.pos + 1)?;
        if matches!(self.bytes.get(end), Some(b'\'' | b'"' | b'`' | b'&')) {
            return None;
        }
        if self.rules.copy_stdin && self.text[self.pos..end].eq_ignore_ascii_case("stdin") {
            return None;
        }
        Some(self.word_to(end))
    }

    /// Where the identifier characters from `from` end; `None` at a non-ASCII one (which
    /// the dialect may or may not take into the word).
    fn word_end(&self, from: usize) -> Option<usize> {
        let mut end = from;
        while let Some(&b) = self.bytes.get(end) {
            if b >= 128 {
                return None;
            }
            if !self.rules.ident_part[b as usize] {
                break;
            }
            end += 1;
        }
        Some(end)
    }

    /// The unquoted word from here to `end`.
    fn word_to(&mut self, end: usize) -> Token {
        let value = &self.text[self.pos..end];
        let token = Token::Word(Word { value: value.to_string(), quote_style: None, keyword: keyword(value) });
        self.bump(end - self.pos);
        token
    }

    /// A run of digits with an optional fraction; exponents, suffixes, radix prefixes,
    /// tuple indexes and words that start with digits are left to sqlparser.
    fn number(&mut self) -> Option<Token> {
        if self.prev_token() == Some(&Token::Period) {
            return None;
        }
        let start = self.pos;
        let digits = |from: usize| self.bytes[from..].iter().take_while(|b| b.is_ascii_digit()).count();
        let mut end = start + digits(start);
        if self.bytes.get(end) == Some(&b'.') {
            end += 1;
            end += digits(end);
        }
        if self.bytes.get(end).is_some_and(|&b| b >= 128 || b == b'.' || self.rules.ident_part[b as usize]) {
            return None;
        }
        self.bump(end - start);
        Some(Token::Number(self.text[start..end].to_string(), false))
    }

    /// A period that sqlparser does not read as the start of a number.
    fn period(&mut self) -> Option<Token> {
        match self.peek(1) {
            Some(b'_') => None,
            Some(b) if b.is_ascii_digit() => {
                let field = self.rules.tuple_access
                    && matches!(
                        self.prev_token(),
                        Some(Token::Word(_) | Token::RParen | Token::RBracket | Token::Number(..))
                    );
                if field { self.op(1, Token::Period) } else { None }
            }
            _ => self.op(1, Token::Period),
        }
    }

    /// A string literal after a prefix of `prefix` bytes (`r`, `b`): its value and whether
    /// it was triple-quoted. A doubled quote stands for one; with `backslash`, escapes are
    /// decoded as sqlparser does; with `triple`, three quotes open a triple-quoted string
    /// and two an empty one.
    fn literal(&mut self, prefix: usize, backslash: bool, triple: bool) -> Option<(String, bool)> {
        let open = self.pos + prefix;
        let quote = self.bytes[open];
        if triple && self.bytes.get(open + 1) == Some(&quote) {
            if self.bytes.get(open + 2) != Some(&quote) {
                self.bump(prefix + 2);
                return Some((String::new(), false));
            }
            let from = open + 3;
            let len = memchr::memmem::find(&self.bytes[from..], &[quote; 3])?;
            let body = &self.text[from..from + len];
            if backslash && body.contains('\\') {
                return None;
            }
            let value = body.to_string();
            self.advance_to(from + len + 3);
            return Some((value, true));
        }
        let mut value = String::new();
        let mut i = open + 1;
        let mut from = i;
        loop {
            let at = i + memchr::memchr2(quote, b'\\', &self.bytes[i..])?;
            if self.bytes[at] == b'\\' {
                if !backslash {
                    i = at + 1;
                    continue;
                }
                value.push_str(&self.text[from..at]);
                let next = self.text[at + 1..].chars().next()?;
                if self.rules.ignores_wildcard_escapes && matches!(next, '%' | '_') {
                    value.push('\\');
                    value.push(next);
                } else {
                    value.push(match next {
                        '0' => '\0',
                        'a' => '\u{7}',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'Z' => '\u{1a}',
                        c => c,
                    });
                }
                i = at + 1 + next.len_utf8();
                from = i;
                continue;
            }
            if self.bytes.get(at + 1) == Some(&quote) {
                value.push_str(&self.text[from..=at]);
                i = at + 2;
                from = i;
                continue;
            }
            value.push_str(&self.text[from..at]);
            self.advance_to(at + 1);
            return Some((value, false));
        }
    }

    /// `@`: an operator, a variable word (`@name` where the dialect starts identifiers
    /// with `@`) or a lone at sign, as sqlparser reads them.
    fn at_sign(&mut self) -> Option<Token> {
        match self.peek(1) {
            Some(b'@' | b'-' | b'>' | b'?') => None,
            Some(b' ' | b'\'' | b'"' | b'`') | None => self.op(1, Token::AtSign),
            Some(c) if self.rules.ident_start[b'@' as usize] => {
                if !(c.is_ascii_alphanumeric() || c == b'_') {
                    return None;
                }
                let end = self.word_end(self.pos + 2)?;
                Some(self.word_to(end))
            }
            Some(_) => self.op(1, Token::AtSign),
        }
    }

    fn quoted_identifier(&mut self, quote: u8) -> Option<Token> {
        let close = match quote {
            b'"' | b'`' => quote,
            _ => return None,
        };
        let mut value = String::new();
        let mut i = self.pos + 1;
        loop {
            let at = i + memchr::memchr(close, &self.bytes[i..])?;
            value.push_str(&self.text[i..at]);
            if self.bytes.get(at + 1) == Some(&close) {
                value.push(close as char);
                i = at + 2;
                continue;
            }
            self.advance_to(at + 1);
            return Some(Token::Word(Word { value, quote_style: Some(quote as char), keyword: Keyword::NoKeyword }));
        }
    }

    fn line_comment(&mut self, prefix_len: usize, prefix: &str) -> Option<Token> {
        let from = self.pos + prefix_len;
        let rest = &self.bytes[from..];
        let len = if self.rules.comment_stops_at_cr {
            memchr::memchr2(b'\n', b'\r', rest)
        } else {
            memchr::memchr(b'\n', rest)
        }
        .unwrap_or(rest.len());
        let comment = self.text[from..from + len].to_string();
        self.advance_to(from + len);
        Some(Token::Whitespace(Whitespace::SingleLineComment { comment, prefix: prefix.to_string() }))
    }

    fn block_comment(&mut self) -> Option<Token> {
        let from = self.pos + 2;
        let len = memchr::memmem::find(&self.bytes[from..], b"*/")?;
        let body = &self.text[from..from + len];
        // With nesting, a `/*` inside (even one sharing the `*` of the first `*/`) opens
        // another level.
        let opens = self.text[from..from + len + 1].contains("/*");
        if (self.rules.nested_comments && opens) || (self.rules.comment_hints && body.starts_with('!')) {
            return None;
        }
        let comment = body.to_string();
        self.advance_to(from + len + 2);
        Some(Token::Whitespace(Whitespace::MultiLineComment(comment)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::tokenizer::Tokenizer;

    const ENGINES: [Engine; 15] = [
        Engine::Generic,
        Engine::Ansi,
        Engine::Postgres,
        Engine::Redshift,
        Engine::MySql,
        Engine::Sqlite,
        Engine::Snowflake,
        Engine::BigQuery,
        Engine::Hive,
        Engine::Databricks,
        Engine::MsSql,
        Engine::DuckDb,
        Engine::ClickHouse,
        Engine::Oracle,
        Engine::Teradata,
    ];

    /// Whether the fast path answered, after checking that its answer is sqlparser's.
    fn agrees(sql: &str, engine: Engine) -> bool {
        let Some(fast) = tokenize(sql, engine) else {
            return false;
        };
        let reference = Tokenizer::new(engine.dialect(), sql).tokenize_with_location();
        let reference =
            reference.unwrap_or_else(|e| panic!("{engine:?}: sqlparser failed on {sql:?} ({e}), fast path did not"));
        assert_eq!(fast, reference, "{engine:?} on {sql:?}");
        true
    }

    #[test]
    fn keywords_match_sqlparser() {
        for word in ALL_KEYWORDS.iter().chain(&["select", "Select", "nokeyword", "x", "", "sélect"]) {
            let expected = match Token::make_word(word, None) {
                Token::Word(w) => w.keyword,
                _ => unreachable!(),
            };
            assert_eq!(keyword(word), expected, "{word}");
            assert_eq!(keyword(&word.to_lowercase()), expected, "{word}");
        }
    }

    #[test]
    fn plain_sql_takes_the_fast_path_in_every_dialect() {
        let sql = "-- daily totals\r\nINSERT INTO mart.daily (d, total)\n\tSELECT o.d, SUM(o.amount * 1.5) AS total /* gross */\n  FROM shop.orders o JOIN x ON o.id = x.id\n WHERE o.status <> 'it''s' AND o.d >= '2024-01-01' OR o.n != 3 AND a <= 2 AND b > 1 AND c < 4\n GROUP BY 1;\nselect a||b, c::int, f(x => 1), e.f, 'é' from t";
        for engine in ENGINES {
            assert!(agrees(sql, engine), "{engine:?} left plain SQL to sqlparser");
        }
    }

    #[test]
    fn hard_cases_agree_or_fall_back() {
        let cases = [
            "select 1e5, 1.e3, .5, 0x1F, 1_000, 12L, 3abc, t.1, t.1.2, (1,2).1, a._b, 1.",
            "select b'01', x'ff', n'x', e'\\n', u&'x', r'x', q'[x]', nq'[x]', B\"y\"",
            "select 'a\\'b', \"q\"\"x\", `b``t`, [br], \"\"\"triple\"\"\", '''t'''",
            "select a->b, a->>'c', a#>b, a@>b, a<@b, a ~ b, a !~ b, a <=> b, a <-> b, a |/ b, a ||/ b",
            "select @x, @@y, #t, $1, $$body$$, ?, ?1, :name, a::b, a := 1, a // b, a % b, a%b",
            "select 1 /* a /* nested */ b */, 2 /*! hint */ -- c\r\n, 3 --x\n # hash\n",
            "copy t from stdin;\n1\t2\n\\.\n",
            "select 'unterminated",
            "select \"unterminated",
            "select /* unterminated",
            "select ä, 'ä', \"ä\", /* ä */ 1 -- ä\n",
            "a<=+b a<=-b a<+b a<-b a<=>b a<>b a>=b a>>b a<<b a>^b a<^b a|>b a|&b a&&b a||b",
            "select --no space\n1 ---x\n",
            "select a.b.c, t.*, count(*), x.\"Y\", y.`z`, 3.14, 42.",
        ];
        for engine in ENGINES {
            for sql in cases {
                agrees(sql, engine);
            }
        }
    }

    /// Generated scripts from SQL fragments, for every dialect: whenever the fast path
    /// answers, its tokens and spans are sqlparser's.
    #[test]
    fn generated_scripts_agree_with_sqlparser() {
        const PIECES: &[&str] = &[
            "select",
            "FROM",
            "t",
            "_x1",
            "a$b",
            "é",
            "1",
            "2.5",
            "3.",
            "10e2",
            "0x1",
            "'s'",
            "'it''s'",
            "'a\\'b'",
            "\"q\"",
            "\"a\"\"b\"",
            "`b`",
            "[c]",
            "--c\n",
            "/* m */",
            "/*! h */",
            "# h\n",
            " ",
            "  ",
            "\t",
            "\n",
            "\r\n",
            "\r",
            "(",
            ")",
            ",",
            ";",
            ".",
            "*",
            "+",
            "-",
            "/",
            "%",
            "=",
            "==",
            "=>",
            "<",
            ">",
            "<=",
            ">=",
            "<>",
            "!=",
            "!",
            "||",
            "|",
            "::",
            ":",
            ":=",
            "[",
            "]",
            "{",
            "}",
            "&",
            "^",
            "~",
            "@",
            "?",
            "$",
            "->",
            "'''",
            "\"\"\"",
            "b",
            "x",
            "n",
            "e",
            "u",
            "r",
            "q",
            "stdin",
            "L",
            "_",
            "'é'",
            "/*",
            "*/",
            "'",
            "r'x'",
            "R\"y\"",
            "b'z'",
            "B\"w\"",
            "r'''t'''",
            "'a\\nb'",
            "'\\%'",
            "'\\",
            "\\",
            "'''x'''",
            "\"\"\"y\"\"\"",
            "@v",
            "@@v",
            "@ ",
            "@1",
            "#!",
            "&&",
            "&",
            "'é\\é'",
            "''",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut fast = 0;
        for round in 0..20_000 {
            let engine = ENGINES[round % ENGINES.len()];
            let len = 1 + (next() % 24) as usize;
            let sql: String = (0..len).map(|_| PIECES[(next() % PIECES.len() as u64) as usize]).collect();
            if agrees(&sql, engine) {
                fast += 1;
            }
        }
        assert!(fast > 2000, "the fast path answered only {fast} of 20,000 scripts");
    }
}
