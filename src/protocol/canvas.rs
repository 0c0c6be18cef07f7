//! Canvas (spec §2): signatures as the dicts Celery sends, and how the Python client turns a
//! chain, a group or a chord into task messages: which tasks are published, with which ids,
//! group fields and embedded signatures, and which chord sizes the backend must know first.
//!
//! Input is Celery's own signature format (`{"task", "args", "kwargs", "options",
//! "subtask_type", "immutable"}`, composites as `celery.chain` / `celery.group` /
//! `celery.chord`), so what a JS user builds is exactly what a Python user would.

use serde_json::{json, Map, Value};

use super::task_message::{Expiry, TaskOptions};

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
    let result = match sig.subtask_type.as_deref() {
        None => {
            let id = planner.send_task(&sig, &Map::new())?;
            CanvasResult::Task { id, parents: Vec::new() }
        }
        Some("chain") => planner.send_chain(sig.members("tasks")?)?,
        Some("group") => {
            let (id, members) = planner.send_group(&sig.members("tasks")?, None, &sig)?;
            CanvasResult::Group { id, members }
        }
        Some("chord") => {
            let header = sig.kwargs.get("header").ok_or("a chord needs a header")?;
            let header = Sig::parse(header)
                .and_then(|h| if h.subtask_type.as_deref() == Some("group") { h.members("tasks") } else { Ok(vec![h]) })
                .or_else(|_| {
                    header
                        .as_array()
                        .ok_or_else(|| "a chord header must be a list or a group".to_string())?
                        .iter()
                        .map(Sig::parse)
                        .collect()
                })?;
            let body = Sig::parse(sig.kwargs.get("body").ok_or("a chord needs a body")?)?;
            planner.send_chord(&header, &body)?
        }
        Some(other) => return Err(format!("canvas type {other} is not supported yet")),
    };
    Ok(CanvasPlan { tasks: planner.plan, chord_sizes: planner.chord_sizes, result })
}

/// How a worker sends what follows a task (spec §2.2, §2.3): a `link`/`link_error` signature or
/// the next task of a chain, called with `leading_arg` (the parent's result, or its id for an
/// errback) before its own arguments unless immutable, as the child of `parent_id` in the
/// workflow `root_id`, carrying `chain_rest` (the remaining chain, last task first).
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
    if !sig.immutable {
        sig.args.insert(0, leading_arg.clone());
    }
    sig.options.insert("parent_id".into(), json!(parent_id));
    sig.options.insert("root_id".into(), json!(root_id));
    let mut planner = Planner { reply_to, new_id, plan: Vec::new(), chord_sizes: Vec::new() };
    let mut embed = Map::new();
    if !chain_rest.is_empty() {
        embed.insert("chain".into(), Value::Array(chain_rest));
    }
    let id = planner.send_task(&sig, &embed)?;
    Ok(CanvasPlan {
        tasks: planner.plan,
        chord_sizes: planner.chord_sizes,
        result: CanvasResult::Task { id, parents: vec![] },
    })
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

    /// Only the first task is published; the rest travel reversed in its `embed.chain`, frozen
    /// with their ids (spec §2.3). A group followed by a task becomes a chord, as in Python.
    fn send_chain(&mut self, tasks: Vec<Sig>) -> Result<CanvasResult, String> {
        let Some((first, rest)) = tasks.split_first() else { return Err("a chain needs tasks".into()) };
        if first.subtask_type.as_deref() == Some("group") {
            let Some((body, after)) = rest.split_first() else {
                let (id, members) = self.send_group(&first.members("tasks")?, None, first)?;
                return Ok(CanvasResult::Group { id, members });
            };
            if !after.is_empty() {
                return Err("a chain continuing after a group and a task is not supported yet".into());
            }
            return self.send_chord(&first.members("tasks")?, body);
        }
        if rest.iter().any(|sig| !sig.is_plain()) {
            return Err("a chain of plain tasks only is supported yet".into());
        }
        let first_id = self.id_of(first);
        let mut frozen = Vec::with_capacity(rest.len());
        let mut ids = vec![first_id.clone()];
        for sig in rest {
            let (id, dict) = self.freeze(sig, &[]);
            ids.push(id);
            frozen.push(dict);
        }
        frozen.reverse();
        let mut first = first.clone();
        first.options.insert("task_id".into(), json!(first_id));
        let mut embed = Map::new();
        if !frozen.is_empty() {
            embed.insert("chain".into(), Value::Array(frozen));
        }
        self.send_task(&first, &embed)?;
        let last = ids.pop().expect("the first task is there");
        Ok(CanvasResult::Task { id: last, parents: ids })
    }

    fn send_group(
        &mut self,
        members: &[Sig],
        chord_body: Option<&Value>,
        group: &Sig,
    ) -> Result<(String, Vec<String>), String> {
        let group_id =
            group.options.get("task_id").and_then(Value::as_str).map(String::from).unwrap_or_else(|| (self.new_id)());
        let mut ids = Vec::with_capacity(members.len());
        for (index, member) in members.iter().enumerate() {
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
    fn send_chord(&mut self, header: &[Sig], body: &Sig) -> Result<CanvasResult, String> {
        if header.is_empty() {
            return Err("a chord needs at least one header task".into());
        }
        if !body.is_plain() {
            return Err("a chord body must be a plain task yet".into());
        }
        let group_id = (self.new_id)();
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
