//! Script parsing with recovery: statement by statement, so one bad statement costs only
//! itself. A statement the requested dialect rejects is retried with neighbouring
//! dialects, then after small repairs, then piecewise (its inner statements), and finally
//! handed to the token-level scan, flagged as degraded.

use super::dialect::{DialectChain, Engine};
use super::fixup;
use super::lexer::{self, LexOptions, Lexeme, Tok, TokenScan};
use super::model::StatementStatus;
use sqlparser::ast::Statement;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError, ParserOptions};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, TokenizerError};

/// Parser nesting limit: sqlparser returns an error past it instead of overflowing.
pub const RECURSION_LIMIT: usize = 50;
/// Piecewise recovery tries at most this many statement starts per failed statement.
const MAX_PIECES: usize = 64;

/// One statement of the script as parsed (or not).
#[derive(Debug)]
pub struct Unit {
    /// Byte range in the script.
    pub start: usize,
    pub end: usize,
    pub statements: Vec<Statement>,
    pub engine: Option<Engine>,
    pub status: StatementStatus,
    /// Byte offset and message of the requested dialect's error.
    pub error: Option<(usize, String)>,
    /// Token-level extraction: all we have when nothing parsed, a supplement when only
    /// pieces of the statement parsed.
    pub scan: Option<TokenScan>,
    /// CTE names defined in a statement recovered piecewise: not tables.
    pub local_names: Vec<String>,
}

/// Byte offsets of line starts, to convert between offsets and (line, column).
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// Byte offset of a 1-based (line, column-in-characters) location.
    pub fn offset(&self, text: &str, line: u64, column: u64) -> usize {
        if line == 0 {
            return 0;
        }
        let Some(&start) = self.starts.get(line as usize - 1) else {
            return text.len();
        };
        let rest = &text[start.min(text.len())..];
        let mut off = start;
        for (n, (i, ch)) in rest.char_indices().enumerate() {
            if n + 1 >= column as usize || ch == '\n' {
                return start + i;
            }
            off = start + i + ch.len_utf8();
        }
        off.min(text.len())
    }

    /// 1-based (line, column-in-characters) of a byte offset.
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let column = text.get(start..offset).map_or(1, |s| s.chars().count() + 1);
        (line + 1, column)
    }
}

fn lex_options(engine: Engine) -> LexOptions {
    LexOptions {
        backslash_escapes: matches!(engine, Engine::MySql | Engine::Hive | Engine::Databricks | Engine::BigQuery),
        brackets: engine == Engine::MsSql,
    }
}

fn parser_options(engine: Engine, no_semicolon: bool) -> ParserOptions {
    let mut options = ParserOptions::new().with_trailing_commas(engine.dialect().supports_trailing_commas());
    options.require_semicolon_stmt_delimiter = !no_semicolon;
    options
}

/// Splits the message from the " at Line: L, Column: C" suffix sqlparser appends.
fn split_error(e: &ParserError) -> (String, Option<(u64, u64)>) {
    let msg = match e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m.clone(),
        ParserError::RecursionLimitExceeded => return ("nesting too deep".into(), None),
    };
    if let Some(p) = msg.rfind(" at Line: ") {
        let tail = &msg[p + " at Line: ".len()..];
        let mut it = tail.split(", Column: ");
        let line = it.next().and_then(|l| l.trim().parse().ok());
        let col = it.next().and_then(|c| c.trim().trim_end_matches(|ch: char| !ch.is_ascii_digit()).parse().ok());
        if let (Some(l), Some(c)) = (line, col) {
            return (msg[..p].to_string(), Some((l, c)));
        }
    }
    (msg, None)
}

/// sqlparser's tokens for `text`: from the fast path when it handles the text, else from
/// sqlparser's own tokenizer (the same tokens either way).
pub fn tokenize(engine: Engine, text: &str) -> Result<Vec<TokenWithSpan>, TokenizerError> {
    match super::tokens::tokenize(text, engine) {
        Some(tokens) => Ok(tokens),
        None => Tokenizer::new(engine.dialect(), text).tokenize_with_location(),
    }
}

/// A parser over `text`'s tokens for `engine`, with our recursion limit.
pub fn parser(engine: Engine, text: &str, no_semicolon: bool) -> Result<Parser<'static>, ParserError> {
    let tokens = tokenize(engine, text).map_err(|e| ParserError::TokenizerError(e.to_string()))?;
    Ok(Parser::new(engine.dialect())
        .with_recursion_limit(RECURSION_LIMIT)
        .with_options(parser_options(engine, no_semicolon))
        .with_tokens_with_locations(tokens))
}

/// Parses a whole script into units, never failing.
pub fn parse_script(sql: &str, chain: &DialectChain, no_semicolon: bool) -> Vec<Unit> {
    let mut units = Vec::new();
    let primary = chain.primary();
    match tokenize(primary, sql) {
        Ok(tokens) => parse_tokens(0, sql, tokens, chain, no_semicolon, &mut units),
        Err(_) => {
            // The tokenizer stopped somewhere (unterminated quote, odd character): split
            // the script ourselves and tokenize statement by statement.
            let lx = lexer::lex(sql, lex_options(primary));
            for (a, b) in lexer::statement_ranges(&lx) {
                let (start, end) = (lx[a].start, lx[b - 1].end);
                let text = &sql[start..end];
                match tokenize(primary, text) {
                    Ok(tokens) => parse_tokens(start, text, tokens, chain, no_semicolon, &mut units),
                    Err(e) => {
                        let (msg, pos) = split_error(&ParserError::TokenizerError(e.to_string()));
                        let local = pos.map_or(0, |(l, c)| LineIndex::new(text).offset(text, l, c));
                        units.push(recover(start, text, (start + local, msg), chain, no_semicolon));
                    }
                }
            }
        }
    }
    units
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ws,
    Semi,
    Open,
    Close,
    Begin,
    Case,
    End,
    EndOther,
    Other,
}

/// A token's start and end as (line, column).
type Position = ((u64, u64), (u64, u64));

/// Each token's kind for statement splitting, and its position (the parser takes the
/// tokens; positions are needed after it has).
fn classify(tokens: &[TokenWithSpan]) -> (Vec<Kind>, Vec<Position>) {
    let mut kinds = Vec::with_capacity(tokens.len());
    let mut spans = Vec::with_capacity(tokens.len());
    for t in tokens {
        kinds.push(match &t.token {
            Token::Whitespace(_) | Token::EOF => Kind::Ws,
            Token::SemiColon => Kind::Semi,
            Token::LParen => Kind::Open,
            Token::RParen => Kind::Close,
            Token::Word(w) if w.quote_style.is_none() => match w.keyword {
                Keyword::BEGIN => Kind::Begin,
                Keyword::CASE => Kind::Case,
                Keyword::END => Kind::End,
                _ => Kind::Other,
            },
            _ => Kind::Other,
        });
        spans.push(((t.span.start.line, t.span.start.column), (t.span.end.line, t.span.end.column)));
    }
    // BEGIN TRANSACTION / BEGIN; are not blocks; END IF / END LOOP close uncounted openers.
    for i in 0..kinds.len() {
        if kinds[i] != Kind::Begin && kinds[i] != Kind::End {
            continue;
        }
        let next = (i + 1..tokens.len()).find(|&j| kinds[j] != Kind::Ws);
        let next_kw = next.and_then(|j| match &tokens[j].token {
            Token::Word(w) => Some(w.keyword),
            _ => None,
        });
        if kinds[i] == Kind::Begin {
            let txn = next.is_none_or(|j| kinds[j] == Kind::Semi)
                || matches!(
                    next_kw,
                    Some(
                        Keyword::TRANSACTION
                            | Keyword::WORK
                            | Keyword::DEFERRED
                            | Keyword::IMMEDIATE
                            | Keyword::EXCLUSIVE
                    )
                )
                || matches!(&next.map(|j| &tokens[j].token), Some(Token::Word(w)) if w.value.eq_ignore_ascii_case("tran"));
            if txn {
                kinds[i] = Kind::Other;
            }
        } else if matches!(next_kw, Some(Keyword::IF | Keyword::WHILE | Keyword::FOR))
            || matches!(&next.map(|j| &tokens[j].token), Some(Token::Word(w)) if w.value.eq_ignore_ascii_case("loop") || w.value.eq_ignore_ascii_case("repeat"))
        {
            kinds[i] = Kind::EndOther;
        }
    }
    (kinds, spans)
}

/// Index of the semicolon that ends the statement starting at `from` (or the length).
fn resync(kinds: &[Kind], from: usize) -> usize {
    let mut parens = 0i32;
    let mut blocks = 0i32;
    for (i, k) in kinds.iter().enumerate().skip(from) {
        match k {
            Kind::Open => parens += 1,
            Kind::Close => parens = (parens - 1).max(0),
            Kind::Begin | Kind::Case => blocks += 1,
            Kind::End => blocks = (blocks - 1).max(0),
            Kind::Semi if parens == 0 && blocks == 0 => return i,
            _ => {}
        }
    }
    kinds.len()
}

fn parse_tokens(
    base: usize,
    text: &str,
    mut tokens: Vec<TokenWithSpan>,
    chain: &DialectChain,
    no_semicolon: bool,
    units: &mut Vec<Unit>,
) {
    let primary = chain.primary();
    fixup::prepare(&mut tokens, primary);
    let (kinds, spans) = classify(&tokens);
    // Token positions are (line, column); converted to byte offsets only where needed.
    let lines = LineIndex::new(text);
    let at = |p: (u64, u64)| lines.offset(text, p.0, p.1);
    let n = tokens.len();
    let mut parser = Parser::new(primary.dialect())
        .with_recursion_limit(RECURSION_LIMIT)
        .with_options(parser_options(primary, no_semicolon))
        .with_tokens_with_locations(tokens);
    let next_solid = |from: usize| (from..n).find(|&i| kinds[i] != Kind::Ws);
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        let Some(start) = next_solid(parser.index()) else {
            break;
        };
        let result = parser.parse_statement();
        let after = parser.index().min(n);
        let failure = match result {
            Ok(stmt) => {
                let follow = next_solid(after);
                let delimited = match follow {
                    None => true,
                    Some(f) => kinds[f] == Kind::Semi || no_semicolon,
                };
                if delimited {
                    let last = (start..after).rev().find(|&i| kinds[i] != Kind::Ws).unwrap_or(start);
                    units.push(Unit {
                        start: base + at(spans[start].0),
                        end: base + at(spans[last].1),
                        statements: vec![stmt],
                        engine: Some(primary),
                        status: StatementStatus::Parsed,
                        error: None,
                        scan: None,
                        local_names: Vec::new(),
                    });
                    continue;
                }
                let f = follow.unwrap_or(start);
                let found = parser.peek_token();
                (f, format!("Expected: end of statement, found: {}", found.token))
            }
            Err(e) => {
                let (msg, pos) = split_error(&e);
                let at = match pos {
                    Some((l, c)) => spans.partition_point(|sp| sp.0 < (l, c)).min(n),
                    None => start,
                };
                (at, msg)
            }
        };
        let (err_tok, msg) = failure;
        let mut end = resync(&kinds, start);
        while end < n && end < err_tok.min(after) {
            end = resync(&kinds, end + 1);
        }
        let last = (start..end.min(n)).rev().find(|&i| kinds[i] != Kind::Ws).unwrap_or(start);
        let a = at(spans[start].0);
        let b = at(spans[last].1).max(a);
        let err_off = base + spans.get(err_tok).map_or(a, |sp| at(sp.0));
        units.push(recover(base + a, &text[a..b], (err_off, msg), chain, no_semicolon));
        while parser.index() < end.min(n) {
            let before = parser.index();
            parser.next_token();
            if parser.index() == before {
                break;
            }
        }
        if parser.index() < end.min(n) {
            break;
        }
    }
}

/// Tokenizes `text` for `engine`, applies the repair fixups and parses it whole.
fn parse_repaired(engine: Engine, text: &str, no_semicolon: bool, only_if_changed: bool) -> Option<Vec<Statement>> {
    let mut tokens = tokenize(engine, text).ok()?;
    if !fixup::repair(&mut tokens) && only_if_changed {
        return None;
    }
    let stmts = Parser::new(engine.dialect())
        .with_recursion_limit(RECURSION_LIMIT)
        .with_options(parser_options(engine, no_semicolon))
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .ok()?;
    if stmts.is_empty() { None } else { Some(stmts) }
}

/// Recovers what it can from a statement the requested dialect rejected.
fn recover(start: usize, text: &str, error: (usize, String), chain: &DialectChain, no_semicolon: bool) -> Unit {
    let mut unit = Unit {
        start,
        end: start + text.len(),
        statements: Vec::new(),
        engine: None,
        status: StatementStatus::Recovered,
        error: Some(error),
        scan: None,
        local_names: Vec::new(),
    };
    // The requested dialect again only when a repair changed something; each neighbour
    // once, with the repairs (they touch only what fails to parse).
    for (k, &engine) in chain.engines.iter().enumerate() {
        if let Some(stmts) = parse_repaired(engine, text, no_semicolon, k == 0) {
            unit.statements = stmts;
            unit.engine = Some(engine);
            return unit;
        }
    }
    let lx = lexer::lex(text, lex_options(chain.primary()));
    let (stmts, engine) = piecewise(text, &lx, chain);
    if !stmts.is_empty() {
        unit.statements = stmts;
        unit.engine = engine;
        unit.local_names = lexer::cte_names(&lx);
        // The statement's head (INSERT INTO t, CREATE TABLE t ...) may be what failed:
        // keep the token scan to supplement what the pieces say.
        unit.scan = Some(lexer::scan_tables(&lx));
        return unit;
    }
    unit.status = StatementStatus::Degraded;
    unit.scan = Some(lexer::scan_tables(&lx));
    unit
}

/// Parses the statements found inside a failed statement (procedure bodies, blocks).
fn piecewise(text: &str, lx: &[Lexeme<'_>], chain: &DialectChain) -> (Vec<Statement>, Option<Engine>) {
    let mut out = Vec::new();
    let mut engine = None;
    let mut depth = 0i32;
    let mut resume_at = 0usize;
    let mut tries = 0;
    for k in 0..lx.len() {
        match lx[k].tok {
            Tok::LParen => depth += 1,
            Tok::RParen => depth = (depth - 1).max(0),
            _ => {}
        }
        if k == 0 || lx[k].start < resume_at || depth > 0 {
            continue;
        }
        let Some(w) = lx[k].word_upper() else {
            continue;
        };
        if !lexer::STATEMENT_STARTS.contains(&w.as_str()) {
            continue;
        }
        tries += 1;
        if tries > MAX_PIECES {
            break;
        }
        let mut end_idx = lexer::statement_end(lx, k);
        // Hive multi-insert (`FROM s INSERT ... SELECT ... INSERT ... SELECT ...`): each
        // INSERT at the top level starts a new piece (but MERGE's `THEN INSERT` does not).
        let mut d = 0i32;
        for j in k + 1..end_idx {
            match lx[j].tok {
                Tok::LParen => d += 1,
                Tok::RParen => d -= 1,
                _ => {}
            }
            if d == 0 && lx[j].is_word("insert") && !lx[j - 1].is_word("then") {
                end_idx = j;
                break;
            }
        }
        let piece_end = if end_idx == 0 { lx[k].end } else { lx[end_idx - 1].end.max(lx[k].end) };
        let piece = &text[lx[k].start..piece_end];
        for &e in &chain.engines {
            let Ok(mut parser) = parser(e, piece, false) else {
                continue;
            };
            if let Ok(stmt) = parser.parse_statement() {
                let next = parser.peek_token();
                // Accept only a statement that ends where a statement or block may end.
                let boundary = match &next.token {
                    Token::EOF | Token::SemiColon => true,
                    Token::Word(w) => {
                        let upper = w.value.to_ascii_uppercase();
                        lexer::STATEMENT_STARTS.contains(&upper.as_str()) || BLOCK_WORDS.contains(&upper.as_str())
                    }
                    _ => false,
                };
                if !boundary {
                    continue;
                }
                let consumed = if next.token == Token::EOF {
                    piece.len()
                } else {
                    LineIndex::new(piece).offset(piece, next.span.start.line, next.span.start.column)
                };
                resume_at = lx[k].start + consumed.max(1);
                out.push(stmt);
                engine.get_or_insert(e);
                break;
            }
        }
    }
    (out, engine)
}

/// Words that may follow a statement inside a procedural block.
const BLOCK_WORDS: &[&str] = &[
    "END",
    "ELSE",
    "ELSEIF",
    "ELSIF",
    "WHEN",
    "EXCEPTION",
    "BEGIN",
    "IF",
    "WHILE",
    "LOOP",
    "SET",
    "DECLARE",
    "RETURN",
    "RAISE",
    "LEAVE",
    "CALL",
    "EXEC",
    "EXECUTE",
    "GO",
    "PRINT",
    "THROW",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lineage::dialect::resolve;

    #[test]
    fn line_index_round_trips() {
        let text = "ab\ncdé\nf";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, 0), (1, 1));
        assert_eq!(idx.position(text, 3), (2, 1));
        let off = idx.offset(text, 2, 3);
        assert_eq!(&text[off..off + 2], "é");
        assert_eq!(idx.position(text, text.len()), (3, 2));
    }

    #[test]
    fn bad_statement_does_not_hide_the_others() {
        let sql = "select a from t1;\nselect from where;\nselect b from t2";
        let units = parse_script(sql, &resolve("postgres"), false);
        assert_eq!(units.len(), 3);
        assert_eq!(units[0].status, StatementStatus::Parsed);
        assert_eq!(units[2].status, StatementStatus::Parsed);
        assert_ne!(units[1].status, StatementStatus::Parsed);
        assert!(units[1].error.is_some());
    }
}
