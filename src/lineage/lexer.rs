//! A forgiving SQL lexer that never fails: splits scripts into statements when the
//! dialect's tokenizer gives up, finds statement starts for piecewise recovery, and feeds
//! the degraded token-level table extraction.

use super::names::TableName;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok<'a> {
    /// A bare word (keyword or identifier), as written.
    Word(&'a str),
    /// A quoted identifier's content (`"x"`, `` `x` ``, `[x]`).
    Quoted(String),
    /// A string literal's content.
    Str(String),
    Number,
    LParen,
    RParen,
    Semicolon,
    Dot,
    Comma,
    /// Any other symbol (operators ...).
    Symbol(char),
}

#[derive(Debug, Clone)]
pub struct Lexeme<'a> {
    pub tok: Tok<'a>,
    /// Byte range in the text.
    pub start: usize,
    pub end: usize,
}

impl Lexeme<'_> {
    pub fn is_word(&self, w: &str) -> bool {
        matches!(self.tok, Tok::Word(x) if x.eq_ignore_ascii_case(w))
    }

    pub fn word_upper(&self) -> Option<String> {
        match self.tok {
            Tok::Word(w) => Some(w.to_ascii_uppercase()),
            _ => None,
        }
    }
}

/// Lexical conventions that differ between dialects.
#[derive(Debug, Clone, Copy, Default)]
pub struct LexOptions {
    /// `\'` escapes a quote inside strings (MySQL, Hive, Spark, BigQuery).
    pub backslash_escapes: bool,
    /// `[name]` is a quoted identifier (T-SQL).
    pub brackets: bool,
}

/// Splits `text` into lexemes; unterminated quotes and comments run to the end.
pub fn lex(text: &str, opts: LexOptions) -> Vec<Lexeme<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let n = bytes.len();
    while i < n {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c => {
                i += 1;
            }
            b'-' if i + 1 < n && bytes[i + 1] == b'-' => {
                while i < n && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if i + 1 < n && bytes[i + 1] == b'*' => {
                i += 2;
                let mut depth = 1;
                while i < n && depth > 0 {
                    if bytes[i] == b'*' && i + 1 < n && bytes[i + 1] == b'/' {
                        depth -= 1;
                        i += 2;
                    } else if bytes[i] == b'/' && i + 1 < n && bytes[i + 1] == b'*' {
                        depth += 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
            b'\'' => {
                let (content, end) = quoted(text, i, b'\'', b'\'', opts.backslash_escapes);
                out.push(Lexeme { tok: Tok::Str(content), start, end });
                i = end;
            }
            b'"' | b'`' => {
                let (content, end) = quoted(text, i, c, c, opts.backslash_escapes && c == b'"');
                let tok = if c == b'"' && opts.backslash_escapes { Tok::Str(content) } else { Tok::Quoted(content) };
                out.push(Lexeme { tok, start, end });
                i = end;
            }
            b'[' if opts.brackets => {
                let (content, end) = quoted(text, i, b'[', b']', false);
                out.push(Lexeme { tok: Tok::Quoted(content), start, end });
                i = end;
            }
            b'$' => {
                // Dollar-quoted string `$tag$ ... $tag$`, else a parameter/word.
                let mut j = i + 1;
                while j < n && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                if j < n && bytes[j] == b'$' && !bytes[i + 1..j].first().is_some_and(u8::is_ascii_digit) {
                    let tag = &text[i..=j];
                    let body_start = j + 1;
                    let (body_end, end) = match text[body_start..].find(tag) {
                        Some(p) => (body_start + p, body_start + p + tag.len()),
                        None => (n, n),
                    };
                    out.push(Lexeme { tok: Tok::Str(text[body_start..body_end].to_string()), start, end });
                    i = end;
                } else {
                    out.push(Lexeme { tok: Tok::Word(&text[i..j]), start, end: j });
                    i = j;
                }
            }
            b'(' | b')' | b';' | b',' | b'.' => {
                let tok = match c {
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b';' => Tok::Semicolon,
                    b',' => Tok::Comma,
                    _ => Tok::Dot,
                };
                out.push(Lexeme { tok, start, end: i + 1 });
                i += 1;
            }
            b'0'..=b'9' => {
                while i < n && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_') {
                    i += 1;
                }
                out.push(Lexeme { tok: Tok::Number, start, end: i });
            }
            _ if is_word_byte(c) => {
                while i < n && is_word_byte(bytes[i]) {
                    i += 1;
                }
                out.push(Lexeme { tok: Tok::Word(&text[start..i]), start, end: i });
            }
            _ => {
                // Any other character (operators, non-ASCII punctuation).
                let ch = text[i..].chars().next().unwrap_or('?');
                i += ch.len_utf8().max(1);
                out.push(Lexeme { tok: Tok::Symbol(ch), start, end: i });
            }
        }
    }
    out
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'@' || c == b'#' || c >= 0x80
}

/// Reads a quoted token starting at `i`; returns its content and the end offset.
fn quoted(text: &str, i: usize, open: u8, close: u8, backslash: bool) -> (String, usize) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut j = i + 1;
    let mut content = String::new();
    let mut seg_start = j;
    while j < n {
        let c = bytes[j];
        if backslash && c == b'\\' && j + 1 < n {
            j += 2;
            continue;
        }
        if c == close {
            if j + 1 < n && bytes[j + 1] == close && open == close {
                content.push_str(&text[seg_start..=j]);
                j += 2;
                seg_start = j;
                continue;
            }
            content.push_str(&text[seg_start..j]);
            return (content, j + 1);
        }
        j += 1;
    }
    content.push_str(&text[seg_start.min(n)..n]);
    (content, n)
}

/// Where each statement of a lexed script ends: indices (exclusive) into `lexemes` of
/// top-level semicolons, not counting those inside BEGIN ... END blocks.
pub fn statement_ranges(lexemes: &[Lexeme<'_>]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < lexemes.len() {
        let end = statement_end(lexemes, i);
        if end > start {
            ranges.push((start, end));
        }
        i = end + 1;
        start = i;
    }
    ranges
}

/// Index of the semicolon ending the statement that starts at `from` (or the length).
pub fn statement_end(lexemes: &[Lexeme<'_>], from: usize) -> usize {
    let mut parens = 0i32;
    let mut blocks = 0i32;
    let mut i = from;
    while i < lexemes.len() {
        let next_word = lexemes.get(i + 1).and_then(Lexeme::word_upper);
        match &lexemes[i].tok {
            Tok::LParen => parens += 1,
            Tok::RParen => parens = (parens - 1).max(0),
            Tok::Semicolon if parens == 0 && blocks <= 0 => return i,
            Tok::Word(w) => {
                let w = w.to_ascii_uppercase();
                match w.as_str() {
                    "BEGIN" => {
                        let txn = matches!(
                            next_word.as_deref(),
                            Some(
                                "TRANSACTION"
                                    | "TRAN"
                                    | "WORK"
                                    | "DISTRIBUTED"
                                    | "DEFERRED"
                                    | "IMMEDIATE"
                                    | "EXCLUSIVE"
                            )
                        ) || matches!(lexemes.get(i + 1).map(|l| &l.tok), Some(Tok::Semicolon) | None);
                        if !txn {
                            blocks += 1;
                        }
                    }
                    "CASE" => blocks += 1,
                    "END" => {
                        let opener_not_counted =
                            matches!(next_word.as_deref(), Some("IF" | "LOOP" | "WHILE" | "REPEAT" | "FOR"));
                        if !opener_not_counted {
                            blocks = (blocks - 1).max(0);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        i += 1;
    }
    lexemes.len()
}

/// Keywords that can start a statement carrying lineage (piecewise recovery starts there).
pub const STATEMENT_STARTS: &[&str] = &[
    "SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "REPLACE", "TRUNCATE", "DROP", "ALTER", "COPY",
    "UNLOAD", "USE",
];

/// Names defined as CTEs (`name AS (` / `name (cols) AS (`), lower-cased.
pub fn cte_names(lx: &[Lexeme<'_>]) -> Vec<String> {
    let mut names = Vec::new();
    if !lx.iter().any(|l| l.is_word("with")) {
        return names;
    }
    for (i, w) in lx.windows(3).enumerate() {
        let name = match &w[0].tok {
            Tok::Word(n) => n.to_lowercase(),
            Tok::Quoted(q) => q.clone(),
            _ => continue,
        };
        let preceded = i == 0
            || matches!(lx[i - 1].tok, Tok::Comma)
            || lx[i - 1].is_word("with")
            || lx[i - 1].is_word("recursive");
        if preceded && w[1].is_word("as") && w[2].tok == Tok::LParen && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Tables a statement reads and writes, guessed from its tokens alone.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TokenScan {
    pub kind: String,
    pub reads: Vec<TableName>,
    /// Written tables with whether the write replaces (true) or changes in place.
    pub writes: Vec<(TableName, ScanWrite)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanWrite {
    Replace,
    Append,
    Modify,
    Remove,
    Alter,
    Drop,
}

const NOT_NAMES: &[&str] = &[
    "SELECT",
    "LATERAL",
    "UNNEST",
    "TABLE",
    "VALUES",
    "ONLY",
    "WHERE",
    "ON",
    "USING",
    "AS",
    "SET",
    "JOIN",
    "LEFT",
    "RIGHT",
    "INNER",
    "OUTER",
    "FULL",
    "CROSS",
    "GROUP",
    "ORDER",
    "LIMIT",
    "UNION",
    "IF",
    "NOT",
    "EXISTS",
    "INTO",
    "OVERWRITE",
    "FROM",
    "WITH",
    "IDENTIFIER",
];

/// Reads a dotted name at `i`; returns it and the index after it.
fn read_name(lx: &[Lexeme<'_>], i: usize) -> Option<(TableName, usize)> {
    read_name_then(lx, i, false)
}

/// Like [`read_name`]; `paren_ok` accepts a following `(` (an INSERT column list).
fn read_name_then(lx: &[Lexeme<'_>], mut i: usize, paren_ok: bool) -> Option<(TableName, usize)> {
    let mut parts = Vec::new();
    loop {
        let part = match &lx.get(i)?.tok {
            Tok::Word(w) => {
                if parts.is_empty() && NOT_NAMES.iter().any(|k| k.eq_ignore_ascii_case(w)) {
                    return None;
                }
                w.to_lowercase()
            }
            Tok::Quoted(q) => q.clone(),
            Tok::Str(s) if parts.is_empty() => {
                return Some((TableName::path(s.clone()), i + 1));
            }
            _ => return None,
        };
        parts.push(part);
        i += 1;
        if matches!(lx.get(i).map(|l| &l.tok), Some(Tok::Dot)) {
            i += 1;
            continue;
        }
        break;
    }
    // A name followed by `(` is a function call, not a table.
    if !paren_ok && matches!(lx.get(i).map(|l| &l.tok), Some(Tok::LParen)) {
        return None;
    }
    Some((TableName::new(parts), i))
}

fn skip_words(lx: &[Lexeme<'_>], mut i: usize, words: &[&str]) -> usize {
    while lx.get(i).is_some_and(|l| words.iter().any(|w| l.is_word(w))) {
        i += 1;
    }
    i
}

/// Token-level table extraction for a statement no parser accepted. Conservative: only
/// statements that start like a query, INSERT, CREATE TABLE/VIEW, UPDATE, DELETE, MERGE
/// or COPY yield anything.
pub fn scan_tables(lx: &[Lexeme<'_>]) -> TokenScan {
    let mut scan = TokenScan::default();
    let Some(first) = lx.first().and_then(Lexeme::word_upper) else {
        return scan;
    };
    scan.kind = first.clone();
    let mut target: Option<(TableName, ScanWrite)> = None;
    match first.as_str() {
        "INSERT" | "REPLACE" => {
            let i = skip_words(lx, 1, &["INTO", "OVERWRITE", "TABLE", "IGNORE", "OR", "REPLACE", "LOCAL", "DIRECTORY"]);
            let overwrite = lx.iter().take(i).any(|l| l.is_word("OVERWRITE"));
            // Only trust the name when what follows looks like the rest of an INSERT.
            target = read_name_then(lx, i, true).and_then(|(n, next)| {
                let plausible = match lx.get(next) {
                    None => true,
                    Some(l) => {
                        matches!(l.tok, Tok::LParen | Tok::Semicolon)
                            || [
                                "SELECT",
                                "VALUES",
                                "VALUE",
                                "WITH",
                                "PARTITION",
                                "DEFAULT",
                                "SET",
                                "BY",
                                "AS",
                                "OVERRIDING",
                                "FORMAT",
                            ]
                            .iter()
                            .any(|k| l.is_word(k))
                    }
                };
                plausible.then_some((n, if overwrite { ScanWrite::Replace } else { ScanWrite::Append }))
            });
        }
        "CREATE" => {
            let i = skip_words(
                lx,
                1,
                &[
                    "OR",
                    "REPLACE",
                    "TEMP",
                    "TEMPORARY",
                    "EXTERNAL",
                    "TRANSIENT",
                    "VOLATILE",
                    "GLOBAL",
                    "LOCAL",
                    "MATERIALIZED",
                    "SECURE",
                    "UNLOGGED",
                    "MULTISET",
                    "SET",
                ],
            );
            if lx.get(i).is_some_and(|l| l.is_word("TABLE") || l.is_word("VIEW")) {
                let i = skip_words(lx, i + 1, &["IF", "NOT", "EXISTS"]);
                target = read_name_then(lx, i, true).map(|(n, _)| (n, ScanWrite::Replace));
            } else {
                return scan;
            }
        }
        "UPDATE" => {
            target = read_name(lx, 1).map(|(n, _)| (n, ScanWrite::Modify));
        }
        "DELETE" => {
            let i = skip_words(lx, 1, &["FROM"]);
            target = read_name(lx, i).map(|(n, _)| (n, ScanWrite::Remove));
        }
        "MERGE" => {
            let i = skip_words(lx, 1, &["INTO"]);
            target = read_name(lx, i).map(|(n, _)| (n, ScanWrite::Modify));
        }
        "COPY" => {
            let i = skip_words(lx, 1, &["INTO"]);
            target = read_name(lx, i).map(|(n, _)| (n, ScanWrite::Append));
        }
        "ALTER" | "DROP" | "TRUNCATE" => {
            // Structure changes: targets in the effects view only, never sources.
            let i = skip_words(lx, 1, &["TABLE", "VIEW", "MATERIALIZED", "EXTERNAL", "IF", "EXISTS", "ONLY"]);
            if lx.get(1).is_some_and(|l| {
                l.is_word("TABLE") || l.is_word("VIEW") || l.is_word("MATERIALIZED") || l.is_word("EXTERNAL")
            }) && let Some((n, _)) = read_name_then(lx, i, true)
            {
                // Hive `ALTER TABLE t EXCHANGE PARTITION (...) WITH TABLE s` moves data s -> t.
                let exchange = lx.iter().position(|l| l.is_word("EXCHANGE")).and_then(|x| {
                    let w = (x..lx.len())
                        .find(|&j| lx[j].is_word("WITH") && lx.get(j + 1).is_some_and(|l| l.is_word("TABLE")))?;
                    read_name(lx, w + 2).map(|(src, _)| src)
                });
                match exchange {
                    Some(src) if first == "ALTER" => {
                        scan.kind = "ALTER TABLE EXCHANGE PARTITION".into();
                        scan.reads.push(src);
                        scan.writes.push((n, ScanWrite::Append));
                    }
                    _ => {
                        let mode = if first == "DROP" { ScanWrite::Drop } else { ScanWrite::Alter };
                        scan.writes.push((n, mode));
                    }
                }
            }
            return scan;
        }
        "SELECT" | "WITH" | "FROM" => {}
        _ => return scan,
    }
    // CTE names are not tables.
    let ctes = cte_names(lx);
    // Sources: names after FROM / JOIN / USING (MERGE) / LIKE / CLONE, outside function calls.
    let mut fn_parens: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < lx.len() {
        match &lx[i].tok {
            Tok::LParen => {
                let is_call = i > 0
                    && matches!(lx[i - 1].tok, Tok::Word(w) if !["IN", "FROM", "JOIN", "AS", "EXISTS", "ON", "AND", "OR", "NOT", "WHERE", "SELECT", "USING", "LATERAL", "VALUES", "INTO", "UNION", "ALL"].iter().any(|k| k.eq_ignore_ascii_case(w)));
                fn_parens.push(is_call);
            }
            Tok::RParen => {
                fn_parens.pop();
            }
            Tok::Word(w)
                if !fn_parens.last().copied().unwrap_or(false)
                    && ["FROM", "JOIN", "LIKE", "CLONE"].iter().any(|k| k.eq_ignore_ascii_case(w))
                    || (first == "MERGE" && w.eq_ignore_ascii_case("USING")) =>
            {
                if let Some((name, next)) = read_name(lx, i + 1) {
                    let is_cte = name.parts.len() == 1 && ctes.contains(&name.parts[0].to_lowercase());
                    let is_target = target.as_ref().is_some_and(|(t, _)| t.key() == name.key());
                    let skip = is_cte || (is_target && first != "INSERT") || scan.reads.contains(&name);
                    if !skip {
                        scan.reads.push(name);
                    }
                    i = next;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(t) = target {
        scan.writes.push(t);
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_respecting_quotes_comments_and_blocks() {
        let sql = "select ';' from a; -- x;y\n/* ; */ insert into b select $$;$$; create procedure p() begin select 1; select 2; end; select 3";
        let lx = lex(sql, LexOptions::default());
        let ranges = statement_ranges(&lx);
        assert_eq!(ranges.len(), 4, "{ranges:?}");
        let last = &lx[ranges[3].0];
        assert!(last.is_word("select"));
    }

    #[test]
    fn unterminated_dollar_quote_before_multibyte_text() {
        let lx = lex("select $x$ aé", LexOptions::default());
        assert_eq!(lx.last().map(|l| l.tok.clone()), Some(Tok::Str(" aé".into())));
    }

    #[test]
    fn unterminated_quote_runs_to_end() {
        let lx = lex("select 'abc", LexOptions::default());
        assert_eq!(lx.len(), 2);
        assert_eq!(lx[1].tok, Tok::Str("abc".into()));
    }

    #[test]
    fn scan_finds_insert_target_and_sources() {
        let sql = "insert into db.t (a) select x from s.src join other o on f(x from y) = 1";
        let lx = lex(sql, LexOptions::default());
        let scan = scan_tables(&lx);
        assert_eq!(scan.writes[0].0.display(), "db.t");
        let reads: Vec<String> = scan.reads.iter().map(TableName::display).collect();
        assert_eq!(reads, vec!["s.src", "other"]);
    }

    #[test]
    fn scan_ignores_statements_without_lineage() {
        for sql in ["refresh table t", "show tables from x", "add jar /tmp/a.jar"] {
            let lx = lex(sql, LexOptions::default());
            let scan = scan_tables(&lx);
            assert!(scan.reads.is_empty() && scan.writes.is_empty(), "{sql}");
        }
    }
}
