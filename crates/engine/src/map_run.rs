//! What a Distributed Map's Map Run needs from the engine when its host runs it (the durable
//! server, whose children are executions): the engine evaluates everything that depends on the
//! parent's state (the reader's parameters, the settings, the batcher's `BatchInput`, the
//! ResultWriter's parameters) into a [`MapRunSpec`], the answer of one task of the parent; the
//! host streams the items and builds each child's input with [`ItemInputs`], the same
//! `ItemSelector` evaluation an inline Map's iterations get.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stepwise_asl::eval::{Entropy, Scope};
use stepwise_asl::model::{QueryLanguage, State, StateKind, StateMachine};

use crate::execution::Fault;
use crate::lang;

/// A Map Run as the engine asks its host to run it: the input of its task
/// ([`crate::TaskKind::MapRun`]). Its answer is the Map's result (the children's outputs in
/// item order, or what the ResultWriter gives) or the Map Run's error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapRunSpec {
    /// `…:mapRun:STATE_MACHINE/LABEL:UUID`, as `MapRunStarted` names it.
    pub arn: String,
    /// The Map state's name (unique in its state machine): where its `ItemSelector` is.
    pub state: String,
    /// The ItemProcessor's definition, which each child runs.
    pub definition: String,
    /// Children run as Express executions (else Standard).
    pub express: bool,
    pub role_arn: String,
    /// The items, when they came from the state's input (`ItemsPath`/`Items`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<Value>>,
    /// The reader, when they come from an `ItemReader`: `{"Resource", "Parameters",
    /// "ReaderConfig"}` evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<Value>,
    /// What the `ItemSelector` reads besides the item.
    pub selection: Selection,
    /// The `ItemBatcher`, evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batcher: Option<BatcherSpec>,
    pub max_concurrency: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_count: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_percentage: Option<f64>,
    /// The `ResultWriter`: `{"Resource", "Parameters", "WriterConfig"}`, its parameters
    /// evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<Value>,
    /// The Map Run is redriven: its children that did not succeed run again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redrive: bool,
}

/// What an `ItemSelector` sees besides the item: the state's effective input (`$`), its
/// context object (`$$`, without `Map.Item`), the variables in scope, and the prefix its
/// errors' causes get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selection {
    pub effective: Value,
    pub context: Value,
    #[serde(default)]
    pub variables: Map<String, Value>,
    pub cause_prefix: String,
}

/// An `ItemBatcher`'s evaluated limits and `BatchInput`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatcherSpec {
    #[serde(default)]
    pub max_items_per_batch: Option<i64>,
    #[serde(default)]
    pub max_input_bytes_per_batch: Option<i64>,
    #[serde(default)]
    pub batch_input: Option<Value>,
}

impl BatcherSpec {
    /// A batcher for the children's inputs.
    pub fn batcher(&self) -> Result<crate::batch::Batcher, String> {
        let spec = crate::batch::ItemBatcherSpec::new(
            self.max_items_per_batch,
            self.max_input_bytes_per_batch,
            self.batch_input.clone(),
        )?;
        Ok(crate::batch::Batcher::new(spec))
    }
}

/// The state named `name` anywhere in `machine` (its branches and item processors included).
pub fn find_state<'a>(machine: &'a StateMachine, name: &str) -> Option<&'a State> {
    if let Some(state) = machine.states.get(name) {
        return Some(state);
    }
    machine.states.values().find_map(|s| match &s.kind {
        StateKind::Parallel(p) => p.branches.iter().find_map(|b| find_state(b, name)),
        StateKind::Map(m) => find_state(&m.processor, name),
        _ => None,
    })
}

/// Builds children's inputs: the Map's `ItemSelector` over each item, as the inline Map does.
#[derive(Debug)]
pub struct ItemInputs<'a> {
    state: &'a State,
    selection: &'a Selection,
}

impl<'a> ItemInputs<'a> {
    /// For the Map Run `spec` of a Distributed Map in `machine` (the parent's state machine).
    pub fn new(machine: &'a StateMachine, spec: &'a MapRunSpec) -> Option<ItemInputs<'a>> {
        let state = find_state(machine, &spec.state)?;
        matches!(state.kind, StateKind::Map(_)).then_some(ItemInputs {
            state,
            selection: &spec.selection,
        })
    }

    /// Child `index`'s input (before batching): the item, or the `ItemSelector` evaluated with
    /// `$$.Map.Item` set.
    pub fn input(
        &self,
        index: usize,
        item: Value,
        entropy: &mut dyn Entropy,
    ) -> Result<Value, Fault> {
        let StateKind::Map(map) = &self.state.kind else {
            return Ok(item);
        };
        let Some(template) = &map.item_selector else {
            return Ok(item);
        };
        let sel = self.selection;
        let mut context = sel.context.clone();
        if let Value::Object(ctx) = &mut context {
            let mut it = Map::new();
            it.insert("Index".into(), Value::from(index));
            it.insert("Value".into(), item);
            let mut m = Map::new();
            m.insert("Item".into(), Value::Object(it));
            ctx.insert("Map".into(), Value::Object(m));
        }
        let result = if self.state.query_language == QueryLanguage::Jsonata {
            let mut states = Map::new();
            states.insert("input".into(), sel.effective.clone());
            if !context.is_null() {
                states.insert("context".into(), context);
            }
            let states = Value::Object(states);
            let env = lang::JsonataEnv {
                states: &states,
                variables: &sel.variables,
            };
            lang::jsonata_template(template, &env, entropy, "ItemSelector")
        } else {
            let scope = Scope {
                input: &sel.effective,
                context: &context,
                variables: &sel.variables,
            };
            lang::payload(template, &scope, entropy)
        };
        result.map_err(|failure| Fault {
            error: Some(failure.error),
            cause: Some(format!("{}{}", sel.cause_prefix, failure.cause)),
        })
    }
}
