//! Throughput of lineage extraction against sqlparser parsing alone, on the shared
//! throughput corpus (`../shared/corpus/lineage/throughput/`). Skips with a message when
//! the corpus is absent. Run: `cargo bench --bench lineage`.

use custodian::lineage::{self, Options, View};
use sqlparser::tokenizer::TokenWithSpan;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The allocator the `custodian` binary uses (`custodian lineage` runs with it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct File {
    path: String,
    dialect: String,
    sql: String,
    statements: usize,
}

fn corpus_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var("LINEAGE_THROUGHPUT_DIR").ok().map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/lineage/throughput")),
    ];
    candidates.into_iter().flatten().find(|p| p.join("manifest.jsonl").is_file())
}

fn load(dir: &Path) -> Vec<File> {
    let Ok(manifest) = std::fs::read_to_string(dir.join("manifest.jsonl")) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(path), Some(dialect)) = (v["path"].as_str(), v["dialect"].as_str()) else {
            continue;
        };
        let Ok(sql) = std::fs::read_to_string(dir.join(path)) else {
            continue;
        };
        let statements = v["statements"].as_u64().unwrap_or(1) as usize;
        files.push(File { path: path.to_string(), dialect: dialect.to_string(), sql, statements });
    }
    files
}

/// Statements sqlparser parses in one file (none when it rejects the file).
fn parse_file(f: &File) -> usize {
    sqlparser::parser::Parser::new(engine(f).dialect())
        .try_with_sql(&f.sql)
        .and_then(|mut p| p.parse_statements())
        .map_or(0, |stmts| stmts.len())
}

/// Statements in one file's lineage.
fn extract_file(f: &File) -> usize {
    let mut options = Options::new(&f.dialect);
    options.view = View::Flow;
    lineage::analyze(&f.sql, &options).statements.len()
}

fn parse_only<'a>(files: impl IntoIterator<Item = &'a File>) -> usize {
    files.into_iter().map(parse_file).sum()
}

fn extract<'a>(files: impl IntoIterator<Item = &'a File>) -> usize {
    files.into_iter().map(extract_file).sum()
}

/// `per_file` over all files on `threads` threads of this process.
fn on_threads(files: &[File], threads: usize, per_file: fn(&File) -> usize) -> usize {
    let mut total = 0;
    custodian::parallel::ordered_map(files.iter(), threads, lineage::ANALYSIS_STACK, per_file, |n| total += n)
        .expect("worker threads start");
    total
}

/// Files where a parse error leaves no table at all in either view (pure DDL yields
/// no flow lineage by design, so the effects view decides).
fn files_without_lineage(files: &[File]) -> usize {
    let mut count = 0;
    for f in files {
        let mut options = Options::new(&f.dialect);
        options.view = View::Effects;
        let l = lineage::analyze(&f.sql, &options);
        if !l.errors.is_empty() && l.sources.is_empty() && l.targets.is_empty() {
            count += 1;
        }
    }
    count
}

fn engine(f: &File) -> lineage::dialect::Engine {
    lineage::dialect::resolve(&f.dialect).primary()
}

fn sqlparser_tokenize(f: &File) -> Result<Vec<TokenWithSpan>, sqlparser::tokenizer::TokenizerError> {
    sqlparser::tokenizer::Tokenizer::new(engine(f).dialect(), &f.sql).tokenize_with_location()
}

/// Checks the fast tokenizer against sqlparser's on every file it answers for; returns
/// how many files it answered for. Panics on the first difference.
fn check_fast_tokenizer(files: &[File]) -> usize {
    let mut answered = 0;
    for f in files {
        let Some(fast) = lineage::tokens::tokenize(&f.sql, engine(f)) else {
            continue;
        };
        match sqlparser_tokenize(f) {
            Ok(reference) if reference == fast => answered += 1,
            _ => panic!("the fast tokenizer disagrees with sqlparser's on {}", f.path),
        }
    }
    answered
}

fn time<R>(rounds: u32, mut f: impl FnMut() -> R) -> (Duration, R) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..rounds {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        last = Some(r);
    }
    (best, last.expect("at least one round"))
}

/// Best times of `a` and `b` over `rounds`, run alternately so that a slow spell of the
/// machine does not land on one side only.
fn time_pair<A, B>(rounds: u32, mut a: impl FnMut() -> A, mut b: impl FnMut() -> B) -> ((Duration, A), (Duration, B)) {
    let mut best = (Duration::MAX, Duration::MAX);
    let mut last = (None, None);
    for _ in 0..rounds {
        let t = Instant::now();
        last.0 = Some(a());
        best.0 = best.0.min(t.elapsed());
        let t = Instant::now();
        last.1 = Some(b());
        best.1 = best.1.min(t.elapsed());
    }
    ((best.0, last.0.expect("at least one round")), (best.1, last.1.expect("at least one round")))
}

fn main() {
    let Some(dir) = corpus_dir() else {
        println!("lineage bench: throughput corpus not found (../shared/corpus/lineage/throughput); skipping");
        return;
    };
    let files = load(&dir);
    if files.is_empty() {
        println!("lineage bench: corpus at {} is empty; skipping", dir.display());
        return;
    }
    let rounds = std::env::var("LINEAGE_BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    if std::env::var("LINEAGE_BENCH_SLOWEST").is_ok() {
        let mut rows: Vec<(f64, f64, usize)> = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let one = std::slice::from_ref(f);
            let (p, _) = time(rounds, || parse_only(one));
            let (e, _) = time(rounds, || extract(one));
            rows.push((e.as_secs_f64() * 1e3, p.as_secs_f64() * 1e3, i));
        }
        rows.sort_by(|a, b| (b.0 - b.1).total_cmp(&(a.0 - a.1)));
        for (e, p, i) in rows.iter().take(15) {
            println!("{e:8.2} ms vs parse {p:8.2} ms  {} {}", files[*i].sql.len(), files[*i].path);
        }
        return;
    }
    if std::env::var("LINEAGE_BENCH_PROFILE").is_ok() {
        // Profiling aid: only the extraction, many times.
        let parse = std::env::var("LINEAGE_BENCH_PROFILE").is_ok_and(|v| v == "parse");
        for _ in 0..rounds {
            if parse {
                parse_only(&files);
            } else {
                extract(&files);
            }
        }
        return;
    }
    let fast = check_fast_tokenizer(&files);
    let declared: usize = files.iter().map(|f| f.statements).sum();
    let ((parse_time, parsed), (extract_time, statements)) =
        time_pair(rounds, || parse_only(&files), || extract(&files));
    let no_lineage = files_without_lineage(&files);
    let ((sqlparser_tokens, _), (fast_tokens, _)) = time_pair(
        rounds,
        || files.iter().map(|f| sqlparser_tokenize(f).map_or(0, |t| t.len())).sum::<usize>(),
        || files.iter().map(|f| lineage::parse::tokenize(engine(f), &f.sql).map_or(0, |t| t.len())).sum::<usize>(),
    );
    let per_sec = |d: Duration| declared as f64 / d.as_secs_f64();
    println!("files: {}  statements (manifest): {declared}", files.len());
    println!("fast tokenizer: {fast} of {} files, tokens and spans identical to sqlparser's", files.len());
    println!(
        "sqlparser parse only:      {:>8.1} ms  {:>9.0} statements/s  ({parsed} statements parsed)",
        parse_time.as_secs_f64() * 1e3,
        per_sec(parse_time)
    );
    println!(
        "parse + lineage analysis:  {:>8.1} ms  {:>9.0} statements/s  ({statements} statements analysed)",
        extract_time.as_secs_f64() * 1e3,
        per_sec(extract_time)
    );
    println!("lineage / parse time ratio: {:.2}x", extract_time.as_secs_f64() / parse_time.as_secs_f64());
    let threads = custodian::parallel::threads();
    let ((parallel_parse, _), (parallel_extract, _)) =
        time_pair(rounds, || on_threads(&files, threads, parse_file), || on_threads(&files, threads, extract_file));
    println!(
        "on {threads} threads of one process: parse only {:.1} ms ({:.0} statements/s), parse + lineage {:.1} ms ({:.0} statements/s)",
        parallel_parse.as_secs_f64() * 1e3,
        per_sec(parallel_parse),
        parallel_extract.as_secs_f64() * 1e3,
        per_sec(parallel_extract)
    );
    // The same comparison on the files the parser accepts whole, where both sides do the
    // same parsing work (on the others parse-only stops at the first error).
    let clean: Vec<&File> =
        files.iter().filter(|f| sqlparser::parser::Parser::parse_sql(engine(f).dialect(), &f.sql).is_ok()).collect();
    let ((clean_parse, _), (clean_extract, _)) =
        time_pair(rounds, || parse_only(clean.iter().copied()), || extract(clean.iter().copied()));
    if std::env::var("LINEAGE_BENCH_SPLIT").is_ok() {
        let (split, _) = time(rounds, || {
            let mut n = 0;
            for f in &clean {
                let chain = lineage::dialect::resolve(&f.dialect);
                n += lineage::parse::parse_script(&f.sql, &chain, false).len();
            }
            n
        });
        println!("statement-by-statement parsing alone: {:.1} ms", split.as_secs_f64() * 1e3);
    }
    println!(
        "on the {} files sqlparser accepts whole: parse {:.1} ms, lineage {:.1} ms, ratio {:.2}x",
        clean.len(),
        clean_parse.as_secs_f64() * 1e3,
        clean_extract.as_secs_f64() * 1e3,
        clean_extract.as_secs_f64() / clean_parse.as_secs_f64()
    );
    println!(
        "tokenizing alone: sqlparser's tokenizer {:.1} ms, ours (fast path, sqlparser's on the rest) {:.1} ms",
        sqlparser_tokens.as_secs_f64() * 1e3,
        fast_tokens.as_secs_f64() * 1e3
    );
    println!(
        "files with no lineage because of parse failures: {no_lineage} of {} ({:.1} %)",
        files.len(),
        100.0 * no_lineage as f64 / files.len() as f64
    );
}
