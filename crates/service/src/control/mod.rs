//! The control plane: state machines, versions, aliases, activities and tags, kept as
//! [`stepwise_store::Resource`]s, answered as AWS's API reference describes.
//!
//! One method per control-plane action, the model's input type in and its output type out
//! (`Service` runs them on a blocking thread). Inputs arriving through the wire have been
//! checked against the service model; the checks here are the ones the model cannot express
//! (names, ARN kinds, definitions, idempotency, references between resources). Executions are
//! not here: the runtime owns them and asks [`Control::resolve_for_start`] what to run.

mod activities;
mod aliases;
pub mod records;
mod state_machines;
mod tags;

pub(crate) use state_machines::definition_hash;
mod versions;

use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard};

use stepwise_store::{ResourceKind, Store};

use crate::arn::{self, Accept, Arns, StateMachineRef};
use crate::error::ServiceError;
use crate::paging;
use crate::types::{LoggingConfiguration, StateMachineType};
use records::{AliasRecord, StateMachineRecord, VersionRecord};
use stepwise_runtime::clock::Clock;

/// AWS's limit on tags per resource.
pub const MAX_TAGS: usize = 50;
/// AWS's limit on versions per state machine.
pub const MAX_VERSIONS: usize = 1000;
/// AWS's limit on aliases per state machine.
pub const MAX_ALIASES: usize = 100;

/// What StartExecution and StartSyncExecution run, resolved from the ARN they were given.
#[derive(Debug, Clone, PartialEq)]
pub struct StartTarget {
    /// The unqualified state machine ARN.
    pub state_machine_arn: String,
    pub state_machine_name: String,
    /// Set when started through a version, or an alias (the version the alias picked).
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub express: bool,
    pub definition: String,
    pub definition_hash: String,
    pub role_arn: String,
    /// The `loggingConfiguration` of the revision or version that runs.
    pub logging: LoggingConfiguration,
    /// Its `tracingConfiguration.enabled`.
    pub tracing: bool,
}

/// A held catalog write lock (see [`Control::lock`]).
#[derive(Debug)]
struct WriteLock<'a> {
    _local: MutexGuard<'a, ()>,
    _shared: Option<stepwise_store::CatalogLock>,
}

/// The control plane on a store.
#[derive(Debug)]
pub struct Control {
    store: Arc<dyn Store>,
    arns: Arns,
    /// Time and randomness (creation dates, revision ids).
    clock: Arc<dyn Clock>,
    /// Serialises this process's read-modify-write sequences (the store's transactions cover
    /// one call each; nodes sharing a store also take its catalog lock).
    writes: Mutex<()>,
}

impl Control {
    pub fn new(store: Arc<dyn Store>, arns: Arns) -> Self {
        Control {
            store,
            arns,
            clock: stepwise_runtime::clock::system(),
            writes: Mutex::new(()),
        }
    }

    /// The same control plane on `clock`'s time.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Where the control plane gets the time and random numbers.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The ARNs of the caller's account (see [`crate::caller`]): the server's own account
    /// unless a front end runs the request in another.
    pub fn arns(&self) -> Arns {
        match crate::caller::account() {
            Some(account) if account != self.arns.account => {
                Arns::new(self.arns.region.clone(), account)
            }
            _ => self.arns.clone(),
        }
    }

    /// Where the caller's top-level resources (state machines, activities) are filed in the
    /// store: the server's own account's under no parent (as stores made before accounts keep
    /// them), another account's under its ARN prefix, so a list reads one account's only.
    pub(crate) fn account_scope(&self) -> Option<String> {
        let arns = self.arns();
        (arns != self.arns).then(|| arns.prefix())
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Resolves StartExecution's `stateMachineArn` (unqualified, version or alias ARN) to what
    /// runs. An alias picks one of its versions by weight, using `pick` in `[0, 1)`.
    pub async fn resolve_for_start(
        &self,
        arn: &str,
        pick: f64,
    ) -> Result<StartTarget, ServiceError> {
        let reference = match arn::expect_state_machine(arn, Accept::ANY) {
            Ok(r) => r,
            Err(Some(e)) => return Err(e),
            Err(None) => return Err(ServiceError::state_machine_does_not_exist(arn)),
        };
        let (version_arn, alias_arn) = match &reference {
            StateMachineRef::Unqualified { name } => {
                let sm = self
                    .state_machine(arn)
                    .await?
                    .ok_or_else(|| ServiceError::state_machine_does_not_exist(arn))?;
                return self
                    .target(
                        arn,
                        name,
                        None,
                        None,
                        (&sm.definition_hash, &sm.role_arn, sm.machine_type),
                        (sm.logging, sm.tracing.enabled.unwrap_or(false)),
                    )
                    .await;
            }
            StateMachineRef::Version { .. } => (arn.to_string(), None),
            StateMachineRef::Alias { .. } => {
                let alias = self
                    .alias(arn)
                    .await?
                    .ok_or_else(|| ServiceError::state_machine_does_not_exist(arn))?;
                let chosen = pick_route(&alias.routing, pick)
                    .ok_or_else(|| ServiceError::state_machine_does_not_exist(arn))?;
                (chosen, Some(arn.to_string()))
            }
        };
        let version = self
            .version(&version_arn)
            .await?
            .ok_or_else(|| ServiceError::state_machine_does_not_exist(&version_arn))?;
        self.target(
            &Arns::unqualified(&version_arn),
            reference.name(),
            Some(version_arn.clone()),
            alias_arn,
            (
                &version.definition_hash,
                &version.role_arn,
                version.machine_type,
            ),
            (version.logging, version.tracing.enabled.unwrap_or(false)),
        )
        .await
    }

    /// `run` is (definition hash, role ARN, type) of the revision or version that runs.
    async fn target(
        &self,
        state_machine_arn: &str,
        name: &str,
        version_arn: Option<String>,
        alias_arn: Option<String>,
        run: (&str, &str, StateMachineType),
        (logging, tracing): (LoggingConfiguration, bool),
    ) -> Result<StartTarget, ServiceError> {
        let (hash, role_arn, machine_type) = run;
        let definition = self.definition(hash).await?;
        Ok(StartTarget {
            state_machine_arn: state_machine_arn.to_string(),
            state_machine_name: name.to_string(),
            version_arn,
            alias_arn,
            express: machine_type == StateMachineType::Express,
            definition,
            definition_hash: hash.to_string(),
            role_arn: role_arn.to_string(),
            logging,
            tracing,
        })
    }

    /// The `loggingConfiguration` an execution of `state_machine_arn` (through `version_arn`)
    /// runs with, and whether it is traced: the version's, else the state machine's current
    /// one. `None` when neither is
    /// found (a Map Run's child executions).
    pub async fn logging_of(
        &self,
        state_machine_arn: &str,
        version_arn: Option<&str>,
    ) -> Result<Option<(LoggingConfiguration, bool)>, ServiceError> {
        let enabled = |t: crate::types::TracingConfiguration| t.enabled.unwrap_or(false);
        Ok(match version_arn {
            Some(v) => self
                .version(v)
                .await?
                .map(|v| (v.logging, enabled(v.tracing))),
            None => self
                .state_machine(state_machine_arn)
                .await?
                .map(|s| (s.logging, enabled(s.tracing))),
        })
    }

    /// Whether the state machine an unqualified, version or alias ARN names is of type EXPRESS
    /// (`None` when there is no such state machine). A state machine's type never changes, so
    /// its versions and aliases share it.
    pub async fn is_express(&self, arn: &str) -> Result<Option<bool>, ServiceError> {
        let machine = self.state_machine(&Arns::unqualified(arn)).await?;
        Ok(machine.map(|sm| sm.machine_type == StateMachineType::Express))
    }

    // ----- store access ------------------------------------------------------------------------

    /// Holds the write lock for a read-modify-write sequence: this process's, then the one
    /// the nodes sharing the store share (PostgreSQL's).
    async fn lock(&self) -> Result<WriteLock<'_>, ServiceError> {
        let local = self.writes.lock().await;
        let shared = self.store.lock_catalog().await?;
        Ok(WriteLock {
            _local: local,
            _shared: shared,
        })
    }

    /// A state machine by its unqualified ARN (as given: an ARN of another region or account is
    /// simply not found).
    async fn state_machine(&self, arn: &str) -> Result<Option<StateMachineRecord>, ServiceError> {
        self.record(arn, ResourceKind::StateMachine).await
    }

    async fn version(&self, arn: &str) -> Result<Option<VersionRecord>, ServiceError> {
        self.record(arn, ResourceKind::Version).await
    }

    async fn alias(&self, arn: &str) -> Result<Option<AliasRecord>, ServiceError> {
        self.record(arn, ResourceKind::Alias).await
    }

    /// A resource of one kind, read into its record type.
    async fn record<T: for<'de> serde::Deserialize<'de>>(
        &self,
        arn: &str,
        kind: ResourceKind,
    ) -> Result<Option<T>, ServiceError> {
        match self.store.get_resource(arn).await? {
            Some(r) if r.kind == kind => records::read(&r).map(Some),
            _ => Ok(None),
        }
    }

    /// One page of a List action (`list`, e.g. `ListActivities`) over the resources of one
    /// kind, under `parent` if given (also the scope of its tokens): `max_results` and
    /// `next_token` as the request gave them; each resource read into its record `R` and made
    /// an item by `item(arn, record)`. The items and the next page's token.
    async fn list_page<R: for<'de> serde::Deserialize<'de>, T>(
        &self,
        list: &str,
        kind: ResourceKind,
        parent: Option<&str>,
        (max_results, next_token): (Option<i64>, Option<&str>),
        item: impl Fn(String, R) -> T,
    ) -> Result<(Vec<T>, Option<String>), ServiceError> {
        let scope = parent.unwrap_or_default();
        let limit = paging::page_size(max_results);
        let after: Option<String> = paging::token_of(next_token, list, scope)?;
        let fetched = self
            .store
            .list_resources(kind, parent, after.as_deref(), limit + 1)
            .await?;
        let page = paging::cut_page(fetched, limit, list, scope, |r| r.sort_key.clone());
        let items = page
            .items
            .into_iter()
            .map(|r| Ok(item(r.arn.clone(), records::read(&r)?)))
            .collect::<Result<_, ServiceError>>()?;
        Ok((items, page.next_token))
    }

    async fn definition(&self, hash: &str) -> Result<String, ServiceError> {
        self.store
            .get_definition(hash)
            .await?
            .ok_or_else(|| ServiceError::internal(format!("definition {hash} is missing")))
    }
}

/// The version an alias's routing picks for `pick` in `[0, 1)`.
fn pick_route(routes: &[records::Route], pick: f64) -> Option<String> {
    let pick = if pick.is_finite() {
        pick.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut cumulative = 0.0;
    for route in routes {
        cumulative += route.weight as f64 / 100.0;
        if pick < cumulative {
            return Some(route.state_machine_version_arn.clone());
        }
    }
    routes
        .iter()
        .rev()
        .find(|r| r.weight > 0)
        .map(|r| r.state_machine_version_arn.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::Route;

    #[test]
    fn routes_are_picked_by_weight() {
        let routes = vec![Route::new("v1", 30), Route::new("v2", 70)];
        assert_eq!(pick_route(&routes, 0.0).as_deref(), Some("v1"));
        assert_eq!(pick_route(&routes, 0.29).as_deref(), Some("v1"));
        assert_eq!(pick_route(&routes, 0.3).as_deref(), Some("v2"));
        assert_eq!(pick_route(&routes, 0.999).as_deref(), Some("v2"));
        assert_eq!(pick_route(&routes, 1.0).as_deref(), Some("v2"));
        assert_eq!(pick_route(&routes, f64::NAN).as_deref(), Some("v1"));
        let zero_first = vec![Route::new("v1", 0), Route::new("v2", 100)];
        assert_eq!(pick_route(&zero_first, 0.0).as_deref(), Some("v2"));
    }
}
