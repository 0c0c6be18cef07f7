//! The kombu Redis transport, publishing side (spec §3.2–§3.4): binding-table entries once per
//! queue, then `LPUSH` of the envelope onto the queue's priority sub-list. One writer task owns the
//! connection and pipelines everything queued since its last write.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{Broker, Destination, OutcomeSender, Publication, PublishOutcome, WriterCommand, WriterHandle};
use crate::error::{is_connection_error, CeleryError, Result};
use crate::protocol::control::{broadcast_envelope, fanout_channel, ControlMessage};
use crate::protocol::{encode_envelope, RedisKeyLayout};
use crate::redis_connection::RedisTarget;

/// Most messages written in one pipeline; bounds memory and the size of one reply.
const MAX_BATCH: usize = 1024;

// Publications dominate the traffic; boxing them would only add an allocation each.
#[allow(clippy::large_enum_variant)]
enum Command {
    Publish(Publication),
    /// Answered once everything queued before it has been written (or has failed).
    Flush(oneshot::Sender<()>),
}

pub struct RedisBroker {
    target: RedisTarget,
    layout: RedisKeyLayout,
    outcomes: OutcomeSender,
    /// Started on first use: no connection opens before then.
    writer: WriterHandle<Command>,
}

impl RedisBroker {
    pub fn new(target: RedisTarget, layout: RedisKeyLayout, outcomes: OutcomeSender) -> Self {
        Self { target, layout, outcomes, writer: WriterHandle::new() }
    }
}

impl WriterCommand for Command {
    fn publish(publication: Publication) -> Self {
        Command::Publish(publication)
    }

    fn flush(done: oneshot::Sender<()>) -> Self {
        Command::Flush(done)
    }
}

impl Broker for RedisBroker {
    fn publish(&self, publication: Publication) {
        self.writer.publish(publication, &self.outcomes, |_, commands| {
            let writer = Writer {
                target: self.target.clone(),
                layout: self.layout.clone(),
                outcomes: self.outcomes.clone(),
                connection: None,
                declared: HashSet::new(),
            };
            tokio::spawn(writer.run(commands));
        });
    }

    fn ready(&self) -> BoxFuture<'_, Result<()>> {
        async move {
            let mut connection = self.target.connect(None).await.map_err(|e| unreachable(&self.target, &e))?;
            redis::cmd("PING").query_async::<()>(&mut connection).await.map_err(|e| unreachable(&self.target, &e))
        }
        .boxed()
    }

    fn broadcast<'a>(&'a self, exchange: &'a str, message: &'a ControlMessage) -> BoxFuture<'a, Result<()>> {
        async move {
            if self.writer.is_closed() {
                return Err(CeleryError::Disconnected);
            }
            let mut connection = self.target.connect(None).await.map_err(|e| unreachable(&self.target, &e))?;
            let channel = format!("{}{}", self.layout.global_keyprefix, fanout_channel(self.target.db(), exchange));
            let envelope = broadcast_envelope(message, exchange, &Uuid::new_v4().to_string());
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(envelope)
                .query_async::<()>(&mut connection)
                .await
                .map_err(|e| unreachable(&self.target, &e))
        }
        .boxed()
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        async move {
            self.writer.close().await;
            Ok(())
        }
        .boxed()
    }
}

fn unreachable(target: &RedisTarget, error: &redis::RedisError) -> CeleryError {
    CeleryError::BrokerUnreachable { url: target.display_url.clone(), reason: error.to_string() }
}

struct Writer {
    target: RedisTarget,
    layout: RedisKeyLayout,
    outcomes: OutcomeSender,
    connection: Option<ConnectionManager>,
    /// Queues whose binding entries this connection already wrote.
    declared: HashSet<String>,
}

impl Writer {
    /// The binding tables of the named exchanges in the batch (kombu's `_kombu.binding.<exchange>`
    /// sets, spec §3.3), read in one round trip, fresh for every batch.
    async fn exchange_bindings(&mut self, batch: &[Publication]) -> redis::RedisResult<HashMap<String, BindingTable>> {
        let mut names: Vec<&String> = batch
            .iter()
            .filter_map(|p| match &p.destination {
                Destination::Exchange { name, .. } => Some(name),
                Destination::Queue(_) | Destination::Reply(_) | Destination::Event { .. } => None,
            })
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let mut pipe = redis::pipe();
        for name in &names {
            pipe.smembers(self.layout.binding(name).0);
        }
        let connection = self.connection.as_mut().expect("connected before");
        let tables: Vec<Vec<String>> = pipe.query_async(connection).await?;
        Ok(names
            .into_iter()
            .cloned()
            .zip(tables.into_iter().map(|members| BindingTable::parse(&members, &self.layout)))
            .collect())
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let mut flushes = Vec::new();
        while let Some(first) = commands.recv().await {
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Publish(publication) => batch.push(publication),
                    Command::Flush(done) => flushes.push(done),
                }
                if batch.len() < MAX_BATCH {
                    next = commands.try_recv().ok();
                }
            }
            if !batch.is_empty() {
                let outcome = self.write(&batch).await;
                let mut seqs: Vec<u64> = batch.drain(..).map(|p| p.seq).collect();
                match outcome {
                    Ok(unroutable) => {
                        for (seq, error) in unroutable {
                            seqs.retain(|s| *s != seq);
                            let _ = self.outcomes.send(PublishOutcome { seqs: vec![seq], error: Some(error) });
                        }
                        let _ = self.outcomes.send(PublishOutcome { seqs, error: None });
                    }
                    Err(error) => {
                        let _ = self.outcomes.send(PublishOutcome { seqs, error: Some(error) });
                    }
                }
            }
            for done in flushes.drain(..) {
                let _ = done.send(());
            }
        }
    }

    /// Writes one batch, retrying through reconnects for up to the connect timeout, so that a
    /// Redis restart while sending loses nothing. A retry after a lost reply may push a message
    /// twice: delivery is at least once. Returns the messages no queue took.
    async fn write(&mut self, batch: &[Publication]) -> Result<Vec<(u64, CeleryError)>> {
        let deadline = Instant::now() + self.target.connect_timeout();
        let mut delay = Duration::from_millis(50);
        loop {
            let error = match self.try_write(batch).await {
                Ok(unroutable) => return Ok(unroutable),
                Err(error) => error,
            };
            if !is_connection_error(&error) {
                return Err(CeleryError::PublishFailed(error.to_string()));
            }
            if Instant::now() + delay > deadline {
                self.connection = None;
                return Err(unreachable(&self.target, &error));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }

    async fn try_write(&mut self, batch: &[Publication]) -> redis::RedisResult<Vec<(u64, CeleryError)>> {
        if self.connection.is_none() {
            self.connection = Some(self.target.connect(None).await?);
            // A fresh connection may be a restarted server that lost the binding table.
            self.declared.clear();
        }
        let bindings = self.exchange_bindings(batch).await?;
        let mut unroutable = Vec::new();
        let mut pipe = ListPushes::default();
        let mut new_queues = Vec::new();
        for publication in batch {
            let priority = publication.message.properties.priority;
            let tag = Uuid::new_v4().to_string();
            match &publication.destination {
                Destination::Queue(queue) => {
                    if !self.declared.contains(queue) && !new_queues.contains(&queue) {
                        let (binding_key, member) = self.layout.binding(queue);
                        pipe.other().sadd(binding_key, &member).ignore();
                        pipe.other().sadd(self.layout.permanent_binding_key(queue), &member).ignore();
                        new_queues.push(queue);
                    }
                    let envelope = encode_envelope(&publication.message, "", queue, &tag);
                    pipe.lpush(self.layout.queue_key(queue, priority), &envelope);
                }
                Destination::Reply(queue) => {
                    let envelope = encode_envelope(&publication.message, "", queue, &tag);
                    pipe.lpush(self.layout.queue_key(queue, priority), &envelope);
                }
                Destination::Event { exchange, routing_key } => {
                    let envelope = encode_envelope(&publication.message, exchange, routing_key, &tag);
                    let channel = fanout_channel(self.target.db(), exchange);
                    pipe.other().publish(format!("{}{channel}/{routing_key}", self.layout.global_keyprefix), envelope).ignore();
                }
                Destination::Exchange { name, routing_key } => {
                    let queues = bindings.get(name).map(|b| b.queues_for(routing_key)).unwrap_or_default();
                    if queues.is_empty() {
                        let reason = format!("no queue is bound to exchange {name} with this routing key");
                        unroutable.push((
                            publication.seq,
                            CeleryError::Unroutable { routing_key: routing_key.clone(), reason },
                        ));
                        continue;
                    }
                    let envelope = encode_envelope(&publication.message, name, routing_key, &tag);
                    for queue in queues {
                        pipe.lpush(self.layout.queue_key(&queue, priority), &envelope);
                    }
                }
            }
        }
        let pipe = pipe.finish();
        if pipe.is_empty() {
            return Ok(unroutable); // nothing routable in this batch
        }
        let connection = self.connection.as_mut().expect("connected above");
        match pipe.query_async::<()>(connection).await {
            Ok(()) => {
                self.declared.extend(new_queues.into_iter().cloned());
                Ok(unroutable)
            }
            Err(error) => {
                self.connection = None;
                Err(error)
            }
        }
    }
}

/// A pipeline where consecutive messages for the same list become one `LPUSH key v1 v2 …`: one
/// command and one reply for the run instead of one each, in the same order as single pushes
/// (each value goes to the head in turn, so consumers popping the tail see v1 first).
#[derive(Default)]
struct ListPushes {
    pipe: redis::Pipeline,
    open: Option<(String, redis::Cmd)>,
}

impl ListPushes {
    fn lpush(&mut self, key: String, envelope: &[u8]) {
        match &mut self.open {
            Some((open_key, command)) if *open_key == key => {
                command.arg(envelope);
            }
            _ => {
                self.close();
                let mut command = redis::cmd("LPUSH");
                command.arg(&key).arg(envelope);
                self.open = Some((key, command));
            }
        }
    }

    /// The pipeline, for a command that is not a push; the pushes before it are written first.
    fn other(&mut self) -> &mut redis::Pipeline {
        self.close();
        &mut self.pipe
    }

    fn close(&mut self) {
        if let Some((_, command)) = self.open.take() {
            self.pipe.add_command(command).ignore();
        }
    }

    fn finish(mut self) -> redis::Pipeline {
        self.close();
        self.pipe
    }
}

/// One exchange's bindings: `(routing key, pattern, queue)` triples.
pub(crate) struct BindingTable(Vec<(String, String, String)>);

impl BindingTable {
    pub(crate) fn parse(members: &[String], layout: &RedisKeyLayout) -> Self {
        let sep = layout.separator.as_str();
        Self(
            members
                .iter()
                .filter_map(|member| {
                    let mut parts = member.splitn(3, sep);
                    Some((parts.next()?.to_string(), parts.next()?.to_string(), parts.next()?.to_string()))
                })
                .collect(),
        )
    }

    /// The queues a message with this routing key reaches: direct bindings by equal keys; topic
    /// bindings (kombu stores a pattern for those) by the binding key's words, `*` one word and
    /// `#` any run of characters, as kombu's regex does.
    pub(crate) fn queues_for(&self, routing_key: &str) -> Vec<String> {
        let mut queues: Vec<String> = self
            .0
            .iter()
            .filter(|(key, pattern, _)| {
                if pattern.is_empty() {
                    key == routing_key
                } else {
                    topic_matches(&key.split('.').collect::<Vec<_>>(), routing_key)
                }
            })
            .map(|(_, _, queue)| queue.clone())
            .collect();
        queues.sort();
        queues.dedup();
        queues
    }
}

/// kombu's `TopicExchange`: the binding key's words joined by `\.`, where `*` is `[^.]+` and `#`
/// is `.*?`, matched against the whole routing key.
fn topic_matches(words: &[&str], text: &str) -> bool {
    let Some((word, rest)) = words.split_first() else { return text.is_empty() };
    // Where this word may end: every candidate end, then the `.` before the next word.
    let ends: Vec<usize> = match *word {
        "#" => (0..=text.len()).filter(|i| text.is_char_boundary(*i)).collect(),
        "*" => {
            let run = text.find('.').unwrap_or(text.len());
            (1..=run).filter(|i| text.is_char_boundary(*i)).collect()
        }
        literal => text.starts_with(literal).then_some(literal.len()).into_iter().collect(),
    };
    ends.into_iter().any(|end| {
        let after = &text[end..];
        if rest.is_empty() {
            after.is_empty()
        } else {
            after.strip_prefix('.').is_some_and(|next| topic_matches(rest, next))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_bindings_match_as_kombus_regex_does() {
        let matches = |key: &str, routing_key: &str| topic_matches(&key.split('.').collect::<Vec<_>>(), routing_key);
        assert!(matches("reports.*", "reports.daily"));
        assert!(!matches("reports.*", "reports.daily.pdf"));
        assert!(!matches("reports.*", "reports"));
        assert!(matches("reports.#", "reports.daily.pdf"));
        assert!(matches("reports.#", "reports."));
        assert!(!matches("reports.#", "reports"));
        assert!(matches("#.pdf", "a.b.pdf"));
        assert!(matches("*.daily.*", "x.daily.y"));
        assert!(!matches("a.b", "a.c"));
        let table = BindingTable(vec![
            ("reports.*".into(), "^reports\\.[^\\.]+$".into(), "topic".into()),
            ("reports.daily".into(), String::new(), "direct".into()),
        ]);
        assert_eq!(table.queues_for("reports.daily"), ["direct", "topic"]);
        assert_eq!(table.queues_for("reports.weekly"), ["topic"]);
    }
}
