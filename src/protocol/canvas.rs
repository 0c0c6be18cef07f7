//! Canvas (spec §2): signatures as the dicts Celery sends, and how the Python client turns a
//! chain, a group or a chord into task messages: which tasks are published, with which ids,
//! group fields and embedded signatures, and which chord sizes the backend must know first.
//!
//! Input is Celery's own signature format (`{"task", "args", "kwargs", "options",
//! "subtask_type", "immutable"}`, composites as `celery.chain` / `celery.group` /
//! `celery.chord`), so what a JS user builds is exactly what a Python user would.

use serde_json::{json, Map, Value};

use super::task_message::{Expiry, TaskOptions, TaskRequest};

/// One task message to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedTask {
    pub name: String,
    pub id: String,
    pub args_json: String,
    pub kwargs_json: String,
    pub queue: Option<String>,
    pub options: TaskOptions,
}

impl PlannedTask {
    /// The task as the encoder takes it.
    pub fn request(&self) -> TaskRequest<'_> {
        TaskRequest {
            name: &self.name,
            id: &self.id,
            args_json: &self.args_json,
            kwargs_json: Some(&self.kwargs_json),
            options: &self.options,
        }
    }
}

/// What the caller tracks: one task (a chain's last, a chord's body) or a group's members.
#[derive(Debug, Clone, PartialEq)]
pub enum CanvasResult {
    /// The task whose result is the canvas's result, and the ids before it (a chain's).
    Task {
        id: String,
        parents: Vec<String>,
    },
    Group {
        id: String,
        members: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct CanvasPlan {
    pub tasks: Vec<PlannedTask>,
    /// `(group id, header size)` of each chord: the Redis backend needs `.s` set before the
    /// header tasks can finish (spec §2.5, §9.7).
    pub chord_sizes: Vec<(String, usize)>,
    pub result: CanvasResult,
}

/// Plans how to send a signature. `new_id` yields fresh uuid4 strings.
pub fn plan_canvas(
    signature: &Value,
    reply_to: &str,
    new_id: &mut dyn FnMut() -> String,
) -> Result<CanvasPlan, String> {
    let sig = Sig::parse(signature)?;
    let mut planner = Planner { reply_to, new_id, plan: Vec::new(), chord_sizes: Vec::new() };
    let result = planner.send(&sig, Vec::new())?;
    Ok(CanvasPlan { tasks: planner.plan, chord_sizes: planner.chord_sizes, result })
}

/// How a worker sends what follows a task (spec §2.2, §2.3): a `link`/`link_error` signature or
/// the next step of a chain (a task, a group or a chord), called with `leading_arg` (the parent's
/// result, or its id for an errback) before its own arguments unless immutable, as the child of
/// `parent_id` in the workflow `root_id`; a task carries `chain_rest` (the remaining chain, last
/// task first).
pub fn plan_followup(
    signature: &Value,
    leading_arg: &Value,
    parent_id: &str,
    root_id: &str,
    chain_rest: Vec<Value>,
    reply_to: &str,
    new_id: &mut dyn FnMut() -> String,
) -> Result<CanvasPlan, String> {
    let mut sig = Sig::parse(signature)?;
    sig.call_with(leading_arg, parent_id, root_id)?;
    let mut planner = Planner { reply_to, new_id, plan: Vec::new(), chord_sizes: Vec::new() };
    let result = planner.send(&sig, chain_rest)?;
    Ok(CanvasPlan { tasks: planner.plan, chord_sizes: planner.chord_sizes, result })
}

/// A signature dict, parsed.
#[derive(Debug, Clone)]
struct Sig {
    task: String,
    args: Vec<Value>,
    kwargs: Map<String, Value>,
    options: Map<String, Value>,
    subtask_type: Option<String>,
    immutable: bool,
}

impl Sig {
    fn parse(value: &Value) -> Result<Self, String> {
        let object = value.as_object().ok_or("a signature must be an object")?;
        let task = object.get("task").and_then(Value::as_str).ok_or("a signature needs a task name")?.to_string();
        Ok(Self {
            task,
            args: object.get("args").and_then(Value::as_array).cloned().unwrap_or_default(),
            kwargs: object.get("kwargs").and_then(Value::as_object).cloned().unwrap_or_default(),
            options: object.get("options").and_then(Value::as_object).cloned().unwrap_or_default(),
            subtask_type: object.get("subtask_type").and_then(Value::as_str).map(String::from),
            immutable: object.get("immutable").and_then(Value::as_bool).unwrap_or(false),
        })
    }

    fn members(&self, key: &str) -> Result<Vec<Sig>, String> {
        let list = self
            .kwargs
            .get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{} needs kwargs.{key}", self.task))?;
        list.iter().map(Sig::parse).collect()
    }

    fn is_plain(&self) -> bool {
        self.subtask_type.is_none()
    }

    fn kind(&self) -> &str {
        self.subtask_type.as_deref().unwrap_or("task")
    }

    /// A chord's header members (a group, or a list) and its body.
    fn chord_parts(&self) -> Result<(Vec<Sig>, Sig), String> {
        let header = self.kwargs.get("header").ok_or("a chord needs a header")?;
        let header = match Sig::parse(header) {
            Ok(group) if group.kind() == "group" => group.members("tasks")?,
            Ok(single) => vec![single],
            Err(_) => header
                .as_array()
                .ok_or("a chord header must be a list or a group")?
                .iter()
                .map(Sig::parse)
                .collect::<Result<_, _>>()?,
        };
        let body = Sig::parse(self.kwargs.get("body").ok_or("a chord needs a body")?)?;
        Ok((header, body))
    }

    /// The group id a frozen group or chord carries (its `task_id`), if any.
    fn frozen_id(&self) -> Option<String> {
        self.options.get("task_id").and_then(Value::as_str).map(String::from)
    }

    /// Applies the signature to a parent's result as Celery's `apply_async((result,), ...)`
    /// does: the result goes first into the arguments of a task, of every group member, of every
    /// chord header member, or of a chain's first task; immutable signatures take nothing.
    fn call_with(&mut self, leading: &Value, parent_id: &str, root_id: &str) -> Result<(), String> {
        self.options.insert("parent_id".into(), json!(parent_id));
        self.options.insert("root_id".into(), json!(root_id));
        if self.immutable {
            return Ok(());
        }
        match self.kind() {
            "task" => self.args.insert(0, leading.clone()),
            "group" | "chain" => {
                let mut members = self.members("tasks")?;
                let count = if self.kind() == "group" { members.len() } else { members.len().min(1) };
                for member in &mut members[..count] {
                    member.call_with(leading, parent_id, root_id)?;
                }
                self.kwargs
                    .insert("tasks".into(), Value::Array(members.iter().map(|m| m.to_dict(&Map::new())).collect()));
            }
            "chord" => {
                let (mut header, body) = self.chord_parts()?;
                for member in &mut header {
                    member.call_with(leading, parent_id, root_id)?;
                }
                let header: Vec<Value> = header.iter().map(|m| m.to_dict(&Map::new())).collect();
                self.kwargs.insert("header".into(), Value::Array(header));
                self.kwargs.insert("body".into(), body.to_dict(&Map::new()));
            }
            other => return Err(format!("canvas type {other} is not supported yet")),
        }
        Ok(())
    }

    /// The dict as Celery writes it, with `extra` options merged in (a frozen signature).
    fn to_dict(&self, extra: &Map<String, Value>) -> Value {
        let mut options = self.options.clone();
        for (key, value) in extra {
            options.insert(key.clone(), value.clone());
        }
        json!({
            "task": self.task,
            "args": self.args,
            "kwargs": self.kwargs,
            "options": options,
            "subtask_type": self.subtask_type,
            "immutable": self.immutable,
        })
    }
}

struct Planner<'a> {
    reply_to: &'a str,
    new_id: &'a mut dyn FnMut() -> String,
    plan: Vec<PlannedTask>,
    chord_sizes: Vec<(String, usize)>,
}

impl Planner<'_> {
    fn id_of(&mut self, sig: &Sig) -> String {
        sig.options.get("task_id").and_then(Value::as_str).map(String::from).unwrap_or_else(|| (self.new_id)())
    }

    /// Freezes a signature as Python's `freeze()` does for chain and chord members: a task id
    /// and the client's reply queue in its options.
    fn freeze(&mut self, sig: &Sig, extra: &[(&str, Value)]) -> (String, Value) {
        let id = self.id_of(sig);
        let mut options = Map::new();
        options.insert("task_id".into(), json!(id));
        options.insert("reply_to".into(), json!(self.reply_to));
        for (key, value) in extra {
            options.insert((*key).into(), value.clone());
        }
        (id, sig.to_dict(&options))
    }

    /// One plain task message; `embed` carries the group fields, chain and chord.
    fn send_task(&mut self, sig: &Sig, embed: &Map<String, Value>) -> Result<String, String> {
        if !sig.is_plain() {
            return Err(format!(
                "a nested {} is not supported here yet",
                sig.subtask_type.as_deref().unwrap_or("canvas")
            ));
        }
        let id = self.id_of(sig);
        let mut options = task_options(&sig.options)?;
        options.group_id = embed.get("group_id").and_then(Value::as_str).map(String::from).or(options.group_id);
        options.group_index =
            embed.get("group_index").and_then(Value::as_u64).map(|i| i as u32).or(options.group_index);
        options.chain = embed.get("chain").and_then(Value::as_array).cloned();
        options.chord = embed.get("chord").cloned();
        self.plan.push(PlannedTask {
            name: sig.task.clone(),
            id: id.clone(),
            args_json: Value::Array(sig.args.clone()).to_string(),
            kwargs_json: Value::Object(sig.kwargs.clone()).to_string(),
            queue: sig.options.get("queue").and_then(Value::as_str).map(String::from),
            options,
        });
        Ok(id)
    }

    /// Sends any signature; a plain task carries `chain_rest` (a worker's chain continuation).
    fn send(&mut self, sig: &Sig, chain_rest: Vec<Value>) -> Result<CanvasResult, String> {
        if !chain_rest.is_empty() && !sig.is_plain() {
            return Err(format!("a chain continuing after a {} is not supported yet", sig.kind()));
        }
        match sig.kind() {
            "task" => {
                let mut embed = Map::new();
                if !chain_rest.is_empty() {
                    embed.insert("chain".into(), Value::Array(chain_rest));
                }
                let id = self.send_task(sig, &embed)?;
                Ok(CanvasResult::Task { id, parents: Vec::new() })
            }
            "chain" => self.send_chain(sig.members("tasks")?, None),
            "group" => {
                let (id, members) = self.send_group(&sig.members("tasks")?, None, sig)?;
                Ok(CanvasResult::Group { id, members })
            }
            "chord" => {
                let (header, body) = sig.chord_parts()?;
                self.send_chord(&header, &body, sig.frozen_id())
            }
            other => Err(format!("canvas type {other} is not supported yet")),
        }
    }

    /// A chain as Python's `prepare_steps` sends it (spec §2.3): nested chains flattened, a group
    /// followed by a task made a chord; the first step is published, the rest travel frozen and
    /// reversed in its `embed.chain` (tasks, groups and chords alike), for the workers to send
    /// one after the other. `group` places the whole chain in a group: its last task carries the
    /// group id and index.
    fn send_chain(&mut self, tasks: Vec<Sig>, group: Option<(&str, usize)>) -> Result<CanvasResult, String> {
        let steps = chain_steps(tasks)?;
        let Some((first, rest)) = steps.split_first() else { return Err("a chain needs tasks".into()) };
        if !first.is_plain() {
            if !rest.is_empty() {
                return Err(format!("a chain continuing after a {} is not supported yet", first.kind()));
            }
            return self.send(first, Vec::new());
        }
        let first_id = self.id_of(first);
        let mut ids = vec![first_id.clone()];
        let mut frozen = Vec::with_capacity(rest.len());
        let mut last_result = None;
        for (index, step) in rest.iter().enumerate() {
            let is_last = index + 1 == rest.len();
            let (dict, result) = match step.kind() {
                "task" => {
                    let mut extra = Vec::new();
                    if let (true, Some((group_id, group_index))) = (is_last, group) {
                        extra = vec![("group_id", json!(group_id)), ("group_index", json!(group_index))];
                    }
                    let (id, dict) = self.freeze(step, &extra);
                    ids.push(id.clone());
                    (dict, CanvasResult::Task { id, parents: Vec::new() })
                }
                "group" if group.is_none() => self.freeze_group(step)?,
                "chord" if group.is_none() => self.freeze_chord(step)?,
                other => return Err(format!("a {other} inside a chain inside a group is not supported yet")),
            };
            frozen.push(dict);
            last_result = Some(result);
        }
        frozen.reverse();
        let mut first = first.clone();
        first.options.insert("task_id".into(), json!(first_id));
        let mut embed = Map::new();
        if !frozen.is_empty() {
            embed.insert("chain".into(), Value::Array(frozen));
        } else if let Some((group_id, group_index)) = group {
            embed.insert("group_id".into(), json!(group_id));
            embed.insert("group_index".into(), json!(group_index));
        }
        self.send_task(&first, &embed)?;
        Ok(match last_result {
            None => CanvasResult::Task { id: first_id, parents: Vec::new() },
            Some(CanvasResult::Task { id, .. }) => {
                ids.retain(|earlier| *earlier != id);
                CanvasResult::Task { id, parents: ids }
            }
            Some(group_result) => group_result,
        })
    }

    /// A group as a chain step: frozen, members numbered, for the worker that sends it.
    fn freeze_group(&mut self, group: &Sig) -> Result<(Value, CanvasResult), String> {
        let group_id = group.frozen_id().unwrap_or_else(|| (self.new_id)());
        let mut ids = Vec::new();
        let mut members = Vec::new();
        for (index, member) in group.members("tasks")?.iter().enumerate() {
            if !member.is_plain() {
                return Err(format!("a {} inside a group inside a chain is not supported yet", member.kind()));
            }
            let (id, dict) = self.freeze(member, &[("group_index", json!(index))]);
            ids.push(id);
            members.push(dict);
        }
        let options = Map::from_iter([
            ("task_id".to_string(), json!(group_id)),
            ("root_id".to_string(), Value::Null),
            ("parent_id".to_string(), Value::Null),
        ]);
        let mut dict = group.to_dict(&options);
        dict["kwargs"] = json!({ "tasks": members });
        Ok((dict, CanvasResult::Group { id: group_id, members: ids }))
    }

    /// A chord as a chain step: its header frozen as a group, its body frozen; the worker that
    /// sends it also tells the backend the chord's size.
    fn freeze_chord(&mut self, chord: &Sig) -> Result<(Value, CanvasResult), String> {
        let (header, body) = chord.chord_parts()?;
        if !body.is_plain() {
            return Err("a chord body must be a plain task yet".into());
        }
        let group = Sig {
            task: "celery.group".into(),
            args: Vec::new(),
            kwargs: Map::from_iter([(
                "tasks".to_string(),
                Value::Array(header.iter().map(|m| m.to_dict(&Map::new())).collect()),
            )]),
            options: chord
                .frozen_id()
                .map(|id| Map::from_iter([("task_id".to_string(), json!(id))]))
                .unwrap_or_default(),
            subtask_type: Some("group".into()),
            immutable: false,
        };
        let (header_dict, CanvasResult::Group { id: group_id, members }) = self.freeze_group(&group)? else {
            unreachable!("a frozen group is a group")
        };
        let (body_id, body_dict) = self.freeze(&body, &[]);
        let dict = json!({
            "task": "celery.chord",
            "args": [],
            "kwargs": {"kwargs": {}, "header": header_dict, "body": body_dict},
            "options": {"task_id": group_id},
            "subtask_type": "chord",
            "immutable": false,
        });
        Ok((dict, CanvasResult::Task { id: body_id, parents: members }))
    }

    /// Group members are sent each with the group id and its index; a member that is a chain is
    /// sent as a chain whose last task carries them (its result is the member's).
    fn send_group(
        &mut self,
        members: &[Sig],
        chord_body: Option<&Value>,
        group: &Sig,
    ) -> Result<(String, Vec<String>), String> {
        let group_id = group.frozen_id().unwrap_or_else(|| (self.new_id)());
        let mut ids = Vec::with_capacity(members.len());
        for (index, member) in members.iter().enumerate() {
            if member.kind() == "chain" && chord_body.is_none() {
                match self.send_chain(member.members("tasks")?, Some((&group_id, index)))? {
                    CanvasResult::Task { id, .. } => ids.push(id),
                    CanvasResult::Group { .. } => {
                        return Err("a group inside a chain inside a group is not supported yet".into())
                    }
                }
                continue;
            }
            let mut embed = Map::new();
            embed.insert("group_id".into(), json!(group_id));
            embed.insert("group_index".into(), json!(index));
            if let Some(body) = chord_body {
                embed.insert("chord".into(), body.clone());
            }
            ids.push(self.send_task(member, &embed)?);
        }
        Ok((group_id, ids))
    }

    /// Header tasks carry the frozen body; the body knows its group; the backend learns the size
    /// (spec §2.5). `chord_size` in the body dict is for Celery 5.0 workers.
    fn send_chord(&mut self, header: &[Sig], body: &Sig, group_id: Option<String>) -> Result<CanvasResult, String> {
        if header.is_empty() {
            return Err("a chord needs at least one header task".into());
        }
        if !body.is_plain() {
            return Err("a chord body must be a plain task yet".into());
        }
        let group_id = group_id.unwrap_or_else(|| (self.new_id)());
        let (body_id, mut body_dict) = self.freeze(body, &[("group_id", json!(group_id))]);
        body_dict["chord_size"] = json!(header.len());
        self.chord_sizes.push((group_id.clone(), header.len()));
        let group = Sig {
            task: "celery.group".into(),
            args: vec![],
            kwargs: Map::new(),
            options: Map::from_iter([("task_id".to_string(), json!(group_id))]),
            subtask_type: Some("group".into()),
            immutable: false,
        };
        let (_, members) = self.send_group(header, Some(&body_dict), &group)?;
        Ok(CanvasResult::Task { id: body_id, parents: members })
    }
}

/// A chain's steps as Python's `prepare_steps` sees them: nested chains flattened, and a group
/// followed by a task made a chord with that task as its body.
fn chain_steps(tasks: Vec<Sig>) -> Result<Vec<Sig>, String> {
    let mut flat = Vec::new();
    for task in tasks {
        if task.kind() == "chain" {
            flat.extend(chain_steps(task.members("tasks")?)?);
        } else {
            flat.push(task);
        }
    }
    let mut steps: Vec<Sig> = Vec::with_capacity(flat.len());
    for step in flat {
        match steps.last_mut() {
            Some(previous) if previous.kind() == "group" && step.is_plain() => {
                let header = previous.kwargs.get("tasks").cloned().unwrap_or(Value::Array(vec![]));
                *previous = Sig {
                    task: "celery.chord".into(),
                    args: Vec::new(),
                    kwargs: Map::from_iter([
                        ("header".to_string(), header),
                        ("body".to_string(), step.to_dict(&Map::new())),
                    ]),
                    options: previous.options.clone(),
                    subtask_type: Some("chord".into()),
                    immutable: false,
                };
            }
            _ => steps.push(step),
        }
    }
    Ok(steps)
}

/// A group's result tuple as Celery serializes a `GroupResult`:
/// `[[gid, null], [[[tid, null], null], ...]]` (spec §2.4).
pub fn group_result_tuple(group_id: &str, member_ids: &[String]) -> Value {
    let members: Vec<Value> = member_ids.iter().map(|id| json!([[id, null], null])).collect();
    json!([[group_id, null], members])
}

/// The member ids of a serialized `GroupResult` tuple.
pub fn group_member_ids(tuple: &Value) -> Option<Vec<String>> {
    tuple.get(1)?.as_array()?.iter().map(|member| member.get(0)?.get(0)?.as_str().map(String::from)).collect()
}

/// The `apply_async` options a signature's `options` may carry, in Celery's names.
fn task_options(options: &Map<String, Value>) -> Result<TaskOptions, String> {
    let number = |key: &str| options.get(key).and_then(Value::as_f64);
    let text = |key: &str| options.get(key).and_then(Value::as_str).map(String::from);
    let signatures = |key: &str| -> Option<Vec<Value>> {
        match options.get(key)? {
            Value::Array(list) => Some(list.clone()),
            Value::Null => None,
            single => Some(vec![single.clone()]),
        }
    };
    let priority = match number("priority") {
        Some(p) if (0.0..=255.0).contains(&p) => Some(p as u8),
        Some(p) => return Err(format!("priority {p} is out of range")),
        None => None,
    };
    Ok(TaskOptions {
        countdown: number("countdown"),
        expires: number("expires").map(Expiry::In),
        priority,
        time_limit: number("time_limit"),
        soft_time_limit: number("soft_time_limit"),
        shadow: text("shadow"),
        ignore_result: options.get("ignore_result").and_then(Value::as_bool),
        group_id: text("group_id"),
        group_index: number("group_index").map(|i| i as u32),
        root_id: text("root_id"),
        parent_id: text("parent_id"),
        callbacks: signatures("link"),
        errbacks: signatures("link_error"),
        reply_to: text("reply_to"),
        compress: match text("compression").as_deref() {
            None => false,
            Some("zlib" | "gzip") => true,
            Some(other) => return Err(format!("compression {other} is not supported (zlib and gzip are)")),
        },
        headers: match options.get("headers") {
            Some(Value::Object(headers)) => headers.clone(),
            _ => Map::new(),
        },
        ..TaskOptions::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(task: &str, args: Value) -> Value {
        json!({"task": task, "args": args, "kwargs": {}, "options": {}, "subtask_type": null, "immutable": false})
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("id-{n}")
        }
    }

    #[test]
    fn a_followup_gets_the_parents_result_first_and_its_place_in_the_workflow() {
        let mut next = sig("b", json!([4]));
        next["options"] = json!({"task_id": "fixed"});
        let plan = plan_followup(&next, &json!(7), "p", "r", vec![sig("c", json!([]))], "oid", &mut ids()).unwrap();
        let task = &plan.tasks[0];
        assert_eq!((task.id.as_str(), task.args_json.as_str()), ("fixed", "[7,4]"));
        assert_eq!((task.options.parent_id.as_deref(), task.options.root_id.as_deref()), (Some("p"), Some("r")));
        assert_eq!(task.options.chain.as_ref().unwrap()[0]["task"], "c");
        let mut immutable = sig("e", json!([1]));
        immutable["immutable"] = json!(true);
        let plan = plan_followup(&immutable, &json!("x"), "p", "r", vec![], "oid", &mut ids()).unwrap();
        assert_eq!((plan.tasks[0].args_json.as_str(), plan.tasks[0].options.chain.is_none()), ("[1]", true));
    }

    fn composite(kind: &str, key: &str, members: Vec<Value>) -> Value {
        json!({"task": format!("celery.{kind}"), "args": [], "kwargs": {key: members}, "options": {}, "subtask_type": kind, "immutable": false})
    }

    #[test]
    fn a_chain_ending_with_a_group_carries_it_frozen_as_python_does() {
        let group = composite("group", "tasks", vec![sig("b", json!([1])), sig("c", json!([2]))]);
        let chain = composite("chain", "tasks", vec![sig("a", json!([1, 1])), group]);
        let plan = plan_canvas(&chain, "oid", &mut ids()).unwrap();
        assert_eq!(plan.tasks.len(), 1);
        let step = &plan.tasks[0].options.chain.as_ref().unwrap()[0];
        assert_eq!(step["subtask_type"], "group");
        assert_eq!(step["options"], json!({"task_id": "id-2", "root_id": null, "parent_id": null}));
        assert_eq!(
            step["kwargs"]["tasks"][1]["options"],
            json!({"task_id": "id-4", "reply_to": "oid", "group_index": 1})
        );
        assert_eq!(plan.result, CanvasResult::Group { id: "id-2".into(), members: vec!["id-3".into(), "id-4".into()] });
    }

    #[test]
    fn a_group_then_a_task_inside_a_chain_becomes_a_chord_step() {
        let group = composite("group", "tasks", vec![sig("b", json!([1])), sig("c", json!([2]))]);
        let nested = composite("chain", "tasks", vec![sig("a", json!([1, 1]))]);
        let chain = composite("chain", "tasks", vec![nested, group, sig("d", json!([]))]);
        let plan = plan_canvas(&chain, "oid", &mut ids()).unwrap();
        assert_eq!((plan.tasks.len(), plan.tasks[0].name.as_str()), (1, "a"));
        let step = &plan.tasks[0].options.chain.as_ref().unwrap()[0];
        assert_eq!(step["subtask_type"], "chord");
        assert_eq!(step["kwargs"]["header"]["subtask_type"], "group");
        assert_eq!(step["kwargs"]["body"]["task"], "d");
        assert_eq!(step["options"]["task_id"], step["kwargs"]["header"]["options"]["task_id"]);
        assert!(plan.chord_sizes.is_empty(), "the worker that sends the chord sets its size");
        let CanvasResult::Task { id, parents } = plan.result else { panic!("a chord's result is its body's") };
        assert_eq!(
            (id, parents),
            (step["kwargs"]["body"]["options"]["task_id"].as_str().unwrap().to_string(), vec!["id-1".to_string()])
        );
    }

    #[test]
    fn a_group_of_chains_numbers_each_chains_last_task() {
        let first = composite("chain", "tasks", vec![sig("a", json!([1])), sig("b", json!([]))]);
        let second = composite("chain", "tasks", vec![sig("c", json!([2])), sig("d", json!([]))]);
        let plan = plan_canvas(&composite("group", "tasks", vec![first, second]), "oid", &mut ids()).unwrap();
        assert_eq!(plan.tasks.len(), 2);
        assert_eq!(plan.tasks[0].options.group_id, None);
        let last = &plan.tasks[1].options.chain.as_ref().unwrap()[0];
        assert_eq!(
            (last["options"]["group_id"].as_str(), last["options"]["group_index"].as_u64()),
            (Some("id-1"), Some(1))
        );
        let CanvasResult::Group { id, members } = plan.result else { panic!("a group") };
        assert_eq!(id, "id-1");
        assert_eq!(members.len(), 2);
        assert_eq!(members[1], last["options"]["task_id"].as_str().unwrap());
    }

    #[test]
    fn a_worker_sends_a_group_or_chord_step_with_the_result_prepended() {
        let group = composite("group", "tasks", vec![sig("b", json!([1])), sig("c", json!([2]))]);
        let mut frozen = group.clone();
        frozen["options"] = json!({"task_id": "g1"});
        let plan = plan_followup(&frozen, &json!(10), "p", "r", vec![], "oid", &mut ids()).unwrap();
        assert_eq!(plan.tasks.iter().map(|t| t.args_json.as_str()).collect::<Vec<_>>(), ["[10,1]", "[10,2]"]);
        assert!(plan
            .tasks
            .iter()
            .all(|t| t.options.group_id.as_deref() == Some("g1") && t.options.parent_id.as_deref() == Some("p")));
        let chord = json!({"task": "celery.chord", "args": [], "kwargs": {"kwargs": {}, "header": frozen, "body": sig("tsum", json!([]))},
                           "options": {"task_id": "g1"}, "subtask_type": "chord", "immutable": false});
        let plan = plan_followup(&chord, &json!(10), "p", "r", vec![], "oid", &mut ids()).unwrap();
        assert_eq!(plan.chord_sizes, vec![("g1".to_string(), 2)]);
        assert_eq!(plan.tasks[0].args_json, "[10,1]");
        assert_eq!(plan.tasks[0].options.chord.as_ref().unwrap()["task"], "tsum");
    }

    #[test]
    fn a_chain_sends_its_first_task_with_the_rest_reversed_and_frozen() {
        let chain = json!({"task": "celery.chain", "args": [], "kwargs": {"tasks": [sig("a", json!([2, 2])), sig("b", json!([4])), sig("c", json!([]))]},
                           "options": {}, "subtask_type": "chain", "immutable": false});
        let plan = plan_canvas(&chain, "oid", &mut ids()).unwrap();
        assert_eq!(plan.tasks.len(), 1);
        let first = &plan.tasks[0];
        assert_eq!(first.name, "a");
        let rest = first.options.chain.as_ref().unwrap();
        assert_eq!(rest[0]["task"], "c");
        assert_eq!(rest[1]["task"], "b");
        assert_eq!(rest[1]["options"], json!({"task_id": "id-2", "reply_to": "oid"}));
        assert_eq!(plan.result, CanvasResult::Task { id: "id-3".into(), parents: vec!["id-1".into(), "id-2".into()] });
    }

    #[test]
    fn a_chord_gives_every_header_task_the_frozen_body_and_asks_for_the_size() {
        let chord = json!({"task": "celery.chord", "args": [], "kwargs": {"header": [sig("add", json!([1, 1])), sig("add", json!([2, 2]))], "body": sig("tsum", json!([]))},
                           "options": {}, "subtask_type": "chord", "immutable": false});
        let plan = plan_canvas(&chord, "oid", &mut ids()).unwrap();
        assert_eq!(plan.chord_sizes, vec![("id-1".to_string(), 2)]);
        assert_eq!(plan.tasks.len(), 2);
        for (index, task) in plan.tasks.iter().enumerate() {
            assert_eq!(task.options.group_id.as_deref(), Some("id-1"));
            assert_eq!(task.options.group_index, Some(index as u32));
            let body = task.options.chord.as_ref().unwrap();
            assert_eq!(body["options"], json!({"task_id": "id-2", "reply_to": "oid", "group_id": "id-1"}));
            assert_eq!(body["chord_size"], 2);
        }
        assert_eq!(plan.result, CanvasResult::Task { id: "id-2".into(), parents: vec!["id-3".into(), "id-4".into()] });
    }

    #[test]
    fn group_tuples_round_trip_in_celerys_layout() {
        let tuple = group_result_tuple("g", &["a".into(), "b".into()]);
        assert_eq!(tuple, json!([["g", null], [[["a", null], null], [["b", null], null]]]));
        assert_eq!(group_member_ids(&tuple), Some(vec!["a".to_string(), "b".to_string()]));
    }

    #[test]
    fn a_group_numbers_its_members_and_links_become_callbacks() {
        let mut linked = sig("add", json!([0, 0]));
        linked["options"] = json!({"link": sig("echo", json!([])), "link_error": [sig("on_error", json!([]))]});
        let group = json!({"task": "celery.group", "args": [], "kwargs": {"tasks": [linked, sig("add", json!([1, 1]))]},
                           "options": {}, "subtask_type": "group", "immutable": false});
        let plan = plan_canvas(&group, "oid", &mut ids()).unwrap();
        assert_eq!(plan.tasks[0].options.callbacks.as_ref().unwrap()[0]["task"], "echo");
        assert_eq!(plan.tasks[0].options.errbacks.as_ref().unwrap()[0]["task"], "on_error");
        assert_eq!(plan.tasks[1].options.group_index, Some(1));
        assert!(matches!(plan.result, CanvasResult::Group { ref members, .. } if members.len() == 2));
    }
}
