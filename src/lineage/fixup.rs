//! Token fixups: constructs sqlparser rejects whose meaning is clear, rewritten on the
//! token stream so the statement parses (no second tokenizing pass, no text surgery).
//!
//! Two levels. [`prepare`] runs on every script before the first parse: its fixups touch
//! only token sequences that can never parse as written, so a statement that parses
//! without them parses the same with them. [`repair`] adds rewrites that are right only
//! because the statement already failed (a bit shift read as another binary operator
//! keeps the lineage), and runs on a failed statement's tokens.
//!
//! Both also merge runs of blanks into one whitespace token: sqlparser steps over every
//! whitespace token on each look-ahead, and an indented script holds more blanks than
//! words. Whether blanks separate two tokens, and whether they hold a newline, is all the
//! parser reads of them; both survive. [`prepare`] does it all in one pass over the
//! script's tokens, which is most of its cost.

use super::dialect::Engine;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

const BLANK: Token = Token::Whitespace(Whitespace::Space);

fn is_blank(t: &Token) -> bool {
    matches!(t, Token::Whitespace(Whitespace::Space | Whitespace::Tab | Whitespace::Newline))
}

fn is_ws(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

/// Folds blank `cur` into blank `prev` when both are blanks; true when it did.
fn merge_blank(prev: &mut TokenWithSpan, cur: &TokenWithSpan) -> bool {
    if !(is_blank(&cur.token) && is_blank(&prev.token)) {
        return false;
    }
    if cur.token == Token::Whitespace(Whitespace::Newline) {
        prev.token = Token::Whitespace(Whitespace::Newline);
    }
    prev.span.end = cur.span.end;
    true
}

/// Merges each run of spaces, tabs and newlines into one token (a newline when the run
/// holds one), spanning the run. Comments are kept as they are.
fn squeeze(tokens: &mut Vec<TokenWithSpan>) {
    tokens.dedup_by(|cur, prev| merge_blank(prev, cur));
}

/// The fixups that cannot change a statement that parses, and the blank merging, in one
/// pass over a script's tokens.
pub fn prepare(tokens: &mut Vec<TokenWithSpan>, engine: Engine) {
    // Tokens [0, w) are the output; [w, r) hold only blanks already merged away; from r
    // on, the input, which fixups may look ahead into and rewrite.
    let mut w = 0;
    let mut r = 0;
    while r < tokens.len() {
        match &tokens[r].token {
            Token::Word(word) if engine == Engine::BigQuery && word.keyword == Keyword::ARRAY => {
                typed_array(tokens, r);
            }
            Token::Number(..) => {
                let after_sign = prev_solid(&tokens[..w], w).is_some_and(|p| is_sign(&tokens[p].token));
                days_interval(tokens, r, after_sign);
            }
            _ => {}
        }
        if w > 0 {
            let (done, rest) = tokens.split_at_mut(r);
            if merge_blank(&mut done[w - 1], &rest[0]) {
                r += 1;
                continue;
            }
        }
        tokens.swap(w, r);
        w += 1;
        r += 1;
    }
    tokens.truncate(w);
}

fn is_sign(t: &Token) -> bool {
    matches!(t, Token::Plus | Token::Minus)
}

fn next_solid(tokens: &[TokenWithSpan], from: usize) -> Option<usize> {
    (from..tokens.len()).find(|&i| !is_ws(&tokens[i].token))
}

fn prev_solid(tokens: &[TokenWithSpan], before: usize) -> Option<usize> {
    (0..before).rev().find(|&i| !is_ws(&tokens[i].token))
}

fn keyword(t: &Token) -> Option<Keyword> {
    match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    }
}

fn word_is(t: &Token, text: &str) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(text))
}

/// Applies every fixup, the ones [`prepare`] makes and those right only for a statement
/// that failed, then merges blanks; true when a fixup changed anything.
pub fn repair(tokens: &mut Vec<TokenWithSpan>) -> bool {
    let mut changed = false;
    let mut i = 0;
    // Depth of `<...>` type parameters (ARRAY<STRUCT<...>>), to tell a `>>` that closes
    // two of them from a bit-shift operator.
    let mut angle = 0usize;
    while i < tokens.len() {
        match &tokens[i].token {
            Token::Word(w) if w.quote_style.is_none() => {
                let kw = w.keyword;
                let range = w.value.eq_ignore_ascii_case("range");
                if kw == Keyword::ARRAY && typed_array(tokens, i) {
                    changed = true;
                    continue;
                }
                if (matches!(kw, Keyword::ARRAY | Keyword::STRUCT | Keyword::MAP) || range)
                    && let Some(n) = next_solid(tokens, i + 1)
                    && tokens[n].token == Token::Lt
                {
                    angle += 1;
                    i = n + 1;
                    continue;
                }
            }
            Token::Lt if angle > 0 => angle += 1,
            Token::Gt if angle > 0 => angle -= 1,
            Token::ShiftRight if angle >= 2 => {
                // `>>` closing two type parameter lists.
                let span = tokens[i].span;
                tokens[i].token = Token::Gt;
                tokens.insert(i + 1, TokenWithSpan { token: Token::Gt, span });
                angle -= 2;
                changed = true;
                i += 2;
                continue;
            }
            Token::ShiftRight | Token::ShiftLeft if angle == 0 => {
                // A bit shift the dialect rejects: any binary operator keeps the lineage.
                tokens[i].token = Token::Plus;
                changed = true;
            }
            Token::Number(..) => {
                let after_sign = prev_solid(tokens, i).is_some_and(|p| is_sign(&tokens[p].token));
                changed |= days_interval(tokens, i, after_sign);
            }
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::Ampersand
            | Token::Pipe
            | Token::Caret
                if compound_assignment(tokens, i) =>
            {
                tokens[i].token = BLANK;
                changed = true;
            }
            _ => {}
        }
        i += 1;
    }
    changed |= parenthesised_insert_query(tokens);
    changed |= create_table_select(tokens);
    squeeze(tokens);
    changed
}

/// BigQuery's typed array literal `ARRAY<STRUCT<...>>[...]`: the element type goes, the
/// array literal stays. Returns whether it blanked anything.
fn typed_array(tokens: &mut [TokenWithSpan], at: usize) -> bool {
    let Some(open) = next_solid(tokens, at + 1).filter(|&n| tokens[n].token == Token::Lt) else {
        return false;
    };
    let mut depth = 1i32;
    let mut close = None;
    for (j, t) in tokens.iter().enumerate().skip(open + 1) {
        match t.token {
            Token::Lt => depth += 1,
            Token::Gt => depth -= 1,
            Token::ShiftRight => depth -= 2,
            Token::SemiColon | Token::EOF | Token::LBracket | Token::RBracket => break,
            _ => {}
        }
        if depth <= 0 {
            if depth == 0 {
                close = Some(j);
            }
            break;
        }
    }
    let Some(close) = close else {
        return false;
    };
    if next_solid(tokens, close + 1).is_none_or(|n| tokens[n].token != Token::LBracket) {
        return false;
    }
    for t in &mut tokens[at..=close] {
        t.token = BLANK;
    }
    true
}

/// `date + 30 days` (Hive, Spark): `INTERVAL '30' DAY`. Only where an alias named `days`
/// cannot stand: after `+`/`-` and before a closing parenthesis, a condition keyword or
/// a comparison.
fn days_interval(tokens: &mut Vec<TokenWithSpan>, at: usize, after_sign: bool) -> bool {
    let Token::Number(n, _) = &tokens[at].token else {
        return false;
    };
    if !after_sign {
        return false;
    }
    let Some(unit) =
        next_solid(tokens, at + 1).filter(|&u| word_is(&tokens[u].token, "days") || word_is(&tokens[u].token, "day"))
    else {
        return false;
    };
    let closes = next_solid(tokens, unit + 1).is_some_and(|f| {
        matches!(
            tokens[f].token,
            Token::RParen | Token::Eq | Token::Neq | Token::Lt | Token::Gt | Token::LtEq | Token::GtEq
        ) || matches!(
            keyword(&tokens[f].token),
            Some(Keyword::AND | Keyword::OR | Keyword::THEN | Keyword::ELSE | Keyword::WHEN | Keyword::END)
        )
    });
    if !closes {
        return false;
    }
    let quantity = Token::SingleQuotedString(n.clone());
    tokens[at].token = Token::make_keyword("INTERVAL");
    tokens[unit].token = Token::make_keyword("DAY");
    if unit > at + 1 {
        tokens[at + 1].token = quantity;
    } else {
        let span = tokens[at].span;
        tokens.insert(at + 1, TokenWithSpan { token: quantity, span });
    }
    true
}

/// T-SQL `SET x += 1`: the operator glued to `=` after a name goes.
fn compound_assignment(tokens: &[TokenWithSpan], at: usize) -> bool {
    tokens.get(at + 1).is_some_and(|n| n.token == Token::Eq)
        && prev_solid(tokens, at).is_some_and(|p| matches!(tokens[p].token, Token::Word(_)))
}

fn first_keyword(tokens: &[TokenWithSpan]) -> Option<Keyword> {
    next_solid(tokens, 0).and_then(|i| keyword(&tokens[i].token))
}

/// `INSERT INTO t (WITH c AS (...) SELECT ...)`: the parentheses hold a query, not a
/// column list; sqlparser only accepts the query unparenthesised.
fn parenthesised_insert_query(tokens: &mut [TokenWithSpan]) -> bool {
    if first_keyword(tokens) != Some(Keyword::INSERT) {
        return false;
    }
    let Some(open) = (0..tokens.len()).find(|&i| {
        tokens[i].token == Token::LParen
            && next_solid(tokens, i + 1).is_some_and(|n| keyword(&tokens[n].token) == Some(Keyword::WITH))
    }) else {
        return false;
    };
    let mut depth = 0;
    for j in open..tokens.len() {
        match tokens[j].token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    tokens[open].token = BLANK;
                    tokens[j].token = BLANK;
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// `CREATE TABLE t SELECT ...` (MySQL, Spark) without `AS`.
fn create_table_select(tokens: &mut Vec<TokenWithSpan>) -> bool {
    if first_keyword(tokens) != Some(Keyword::CREATE) {
        return false;
    }
    let Some(table) = tokens.iter().position(|t| keyword(&t.token) == Some(Keyword::TABLE)) else {
        return false;
    };
    let mut depth = 0;
    for i in table + 1..tokens.len() {
        match tokens[i].token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        if depth == 0 && matches!(keyword(&tokens[i].token), Some(Keyword::SELECT | Keyword::WITH)) {
            if prev_solid(tokens, i).is_some_and(|p| keyword(&tokens[p].token) == Some(Keyword::AS)) {
                return false;
            }
            let span = tokens[i].span;
            let as_ = [Token::make_keyword("AS"), BLANK].map(|token| TokenWithSpan { token, span });
            tokens.splice(i..i, as_);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::tokenizer::Tokenizer;

    /// The script after the fixups, tokens joined back to text.
    fn fixed(sql: &str, engine: Engine, failed: bool) -> String {
        let mut tokens = Tokenizer::new(engine.dialect(), sql).tokenize_with_location().unwrap();
        if failed {
            repair(&mut tokens);
        } else {
            prepare(&mut tokens, engine);
        }
        tokens.iter().map(|t| t.token.to_string()).collect()
    }

    #[test]
    fn squeeze_keeps_one_blank_and_any_newline() {
        let mut tokens = Tokenizer::new(Engine::Generic.dialect(), "select  a,\n\t  b -- c\n  from t")
            .tokenize_with_location()
            .unwrap();
        prepare(&mut tokens, Engine::Generic);
        let text: String = tokens.iter().map(|t| t.token.to_string()).collect();
        assert_eq!(text, "select a,\nb -- c\n\nfrom t", "a comment prints its own line end");
        let newline = tokens.iter().find(|t| t.token == Token::Whitespace(Whitespace::Newline)).unwrap();
        assert_eq!((newline.span.start.line, newline.span.end.line), (1, 2), "the run's span covers it whole");
    }

    #[test]
    fn typed_array_literals_lose_their_type() {
        assert_eq!(
            fixed("select array<struct<a string, b int64>>[('x', 1)] from t", Engine::BigQuery, false),
            "select [('x', 1)] from t"
        );
        // A cast keeps its type, and other dialects are left alone unless the statement failed.
        let cast = "select cast(x as array<struct<a int64>>) from t";
        assert_eq!(fixed(cast, Engine::BigQuery, false), cast);
        let other = "select array<int>[1] from t";
        assert_eq!(fixed(other, Engine::Hive, false), other);
        assert_eq!(fixed(other, Engine::Hive, true), "select [1] from t");
    }

    #[test]
    fn day_counts_become_intervals_only_where_no_alias_can_stand() {
        assert_eq!(
            fixed("where d between x and (cast('2000-01-01' as date) + 30 days)", Engine::Hive, false),
            "where d between x and (cast('2000-01-01' as date) + INTERVAL'30'DAY)"
        );
        let alias = "select d + 30 days from t";
        assert_eq!(fixed(alias, Engine::Hive, false), alias);
    }

    #[test]
    fn repairs_tell_nested_types_from_bit_shifts() {
        let sql = "select cast(x as struct<a array<int64>>) from t";
        let mut tokens = Tokenizer::new(Engine::Hive.dialect(), sql).tokenize_with_location().unwrap();
        assert!(repair(&mut tokens));
        let closers: Vec<&Token> =
            tokens.iter().map(|t| &t.token).filter(|t| matches!(t, Token::Gt | Token::ShiftRight)).collect();
        assert_eq!(closers, [&Token::Gt, &Token::Gt], "`>>` closing two lists is split");
        assert_eq!(fixed("select 12 >> b from t", Engine::BigQuery, true), "select 12 + b from t");
        assert_eq!(fixed("select 12 >> b from t", Engine::BigQuery, false), "select 12 >> b from t");
    }

    #[test]
    fn repairs_compound_assignment_missing_as_and_parenthesised_queries() {
        assert_eq!(fixed("update t set a += 1", Engine::MsSql, true), "update t set a = 1");
        assert_eq!(
            fixed("create table t select * from s", Engine::Databricks, true),
            "create table t AS select * from s"
        );
        assert_eq!(
            fixed("insert into t (with c as (select 1) select * from c)", Engine::Generic, true),
            "insert into t with c as (select 1) select * from c "
        );
    }
}
