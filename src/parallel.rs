//! Work spread over threads with results kept in input order: what `custodian lineage
//! --batch` and the lineage benchmark use to analyse many scripts at once.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

/// The machine's parallelism (1 when it cannot be read).
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Applies `f` to every item on `threads` worker threads with `stack` bytes of stack each,
/// and hands the results to `sink` in input order, each as soon as the ones before it are
/// done. Workers take the next item from `items` themselves, one at a time, so a stream
/// (requests on standard input) is answered as it arrives; the worker that completes the
/// next result in order feeds the sink, so no thread waits to be woken per item. An item
/// whose `f` panics gets no result; the others still do.
pub fn ordered_map<I, R, S>(
    items: I,
    threads: usize,
    stack: usize,
    f: impl Fn(I::Item) -> R + Sync,
    sink: S,
) -> std::io::Result<()>
where
    I: Iterator + Send,
    R: Send,
    S: FnMut(R) + Send,
{
    let items = Mutex::new(items.enumerate());
    let output = Mutex::new(Output { next: 0, pending: BTreeMap::new(), sink });
    std::thread::scope(|scope| {
        for n in 0..threads.max(1) {
            let (items, output, f) = (&items, &output, &f);
            std::thread::Builder::new().name(format!("worker-{n}")).stack_size(stack).spawn_scoped(
                scope,
                move || {
                    loop {
                        // Each lock is held only to take an item or to hand results on.
                        let next = items.lock().ok().and_then(|mut items| items.next());
                        let Some((i, item)) = next else { break };
                        let result = catch_unwind(AssertUnwindSafe(|| f(item))).ok();
                        let Ok(mut output) = output.lock() else { break };
                        output.pending.insert(i, result);
                        output.drain();
                    }
                },
            )?;
        }
        Ok(())
    })
}

/// Results waiting for the ones before them.
struct Output<R, S> {
    next: usize,
    pending: BTreeMap<usize, Option<R>>,
    sink: S,
}

impl<R, S: FnMut(R)> Output<R, S> {
    fn drain(&mut self) {
        while let Some(result) = self.pending.remove(&self.next) {
            if let Some(r) = result {
                (self.sink)(r);
            }
            self.next += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_input_order_whatever_the_threads() {
        for threads in [1, 2, 5] {
            let mut out = Vec::new();
            // Earlier items take longer, so later ones finish first.
            ordered_map(
                0..40u64,
                threads,
                64 * 1024,
                |i| {
                    std::thread::sleep(std::time::Duration::from_micros((40 - i) * 50));
                    i * 2
                },
                |r| out.push(r),
            )
            .unwrap();
            assert_eq!(out, (0..40).map(|i| i * 2).collect::<Vec<_>>(), "{threads} threads");
        }
    }

    #[test]
    fn a_panicking_item_loses_only_its_own_result() {
        let mut out = Vec::new();
        ordered_map(
            0..10,
            3,
            64 * 1024,
            |i| if i == 4 { panic!("item 4 (expected by this test)") } else { i },
            |r| out.push(r),
        )
        .unwrap();
        assert_eq!(out, [0, 1, 2, 3, 5, 6, 7, 8, 9]);
    }
}
