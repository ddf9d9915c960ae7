//! `custodian lineage --batch` as the scorer and other tools drive it: many requests analysed
//! at once, answers in request order, each as soon as it is ready.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn batch(jobs: usize) -> Child {
    Command::new(env!("CARGO_BIN_EXE_custodian"))
        .args(["lineage", "--batch", "--jobs", &jobs.to_string(), "--dialect", "postgres"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("custodian lineage --batch starts")
}

/// A request whose SQL grows with `size`, so early requests take longer than later ones.
fn request(id: usize, size: usize) -> String {
    let columns: Vec<String> = (0..size).map(|c| format!("s{id}.c{c} + 1 AS c{c}")).collect();
    let sql = format!("INSERT INTO t{id} SELECT {} FROM s{id}", columns.join(", "));
    serde_json::json!({"id": id.to_string(), "sql": sql}).to_string()
}

/// Reads answers on a thread, so a missing answer fails the test instead of hanging it.
fn answers(stdout: ChildStdout) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(serde_json::from_str(&line).expect("each answer is JSON")).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn batch_answers_every_request_in_order_on_several_threads() {
    let mut child = batch(3);
    let rx = answers(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    let n = 40;
    for id in 0..n {
        writeln!(stdin, "{}", request(id, (n - id) * 20)).unwrap();
        if id == 7 {
            writeln!(stdin, "not json").unwrap();
        }
    }
    drop(stdin);
    let got: Vec<Value> =
        (0..=n).map(|_| rx.recv_timeout(Duration::from_secs(60)).expect("an answer per request")).collect();
    assert!(child.wait().unwrap().success());
    for (k, answer) in got.iter().enumerate() {
        if k == 8 {
            assert!(answer["error"].as_str().unwrap().starts_with("invalid JSON"), "{answer}");
            continue;
        }
        let id = if k < 8 { k } else { k - 1 };
        assert_eq!(answer["id"], id.to_string(), "answers come in request order");
        assert_eq!(answer["targets"], serde_json::json!([format!("t{id}")]));
        assert_eq!(answer["column_lineage"].as_array().unwrap().len(), (n - id) * 20);
    }
}

#[test]
fn batch_answers_a_request_before_the_next_one_arrives() {
    let mut child = batch(2);
    let rx = answers(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    for id in 0..3 {
        writeln!(stdin, "{}", request(id, 3)).unwrap();
        stdin.flush().unwrap();
        let answer = rx.recv_timeout(Duration::from_secs(30)).expect("the answer comes while stdin stays open");
        assert_eq!(answer["id"], id.to_string());
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
