//! A channel whose receiving end hands over what was sent in batches: one call (one wakeup of
//! the caller) for many items instead of one each, optionally after gathering for a while.
//! Publish outcomes and ready result states reach JS this way.

use std::time::Duration;

use tokio::sync::{mpsc, Mutex, Notify};

pub struct Batches<T> {
    receiver: Mutex<mpsc::UnboundedReceiver<T>>,
    wake: Notify,
}

impl<T> Batches<T> {
    pub fn channel() -> (mpsc::UnboundedSender<T>, Self) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (sender, Self { receiver: Mutex::new(receiver), wake: Notify::new() })
    }

    /// Everything sent since the last call, in order; waits for at least one item. With a
    /// `window`, more are gathered for that long first, unless an item `ends` the batch.
    /// [`Self::wake`] ends the wait at once (before the first item: with nothing), and so does
    /// the channel's closing.
    pub async fn next(&self, window: Option<Duration>, ends: impl Fn(&T) -> bool) -> Vec<T> {
        let mut receiver = self.receiver.lock().await;
        let mut batch = Vec::new();
        tokio::select! {
            first = receiver.recv() => batch.extend(first),
            _ = self.wake.notified() => return batch,
        }
        if let Some(window) = window.filter(|_| batch.first().is_some_and(|first| !ends(first))) {
            let gathered = tokio::time::sleep(window);
            tokio::pin!(gathered);
            loop {
                tokio::select! {
                    _ = &mut gathered => break,
                    _ = self.wake.notified() => break,
                    more = receiver.recv() => {
                        let Some(more) = more else { break };
                        let last = ends(&more);
                        batch.push(more);
                        if last {
                            break;
                        }
                    }
                }
            }
        }
        while let Ok(more) = receiver.try_recv() {
            batch.push(more);
        }
        batch
    }

    /// Makes a pending [`Self::next`] answer now, with what it has (maybe nothing).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}
