//! CreateStateMachineAlias, DescribeStateMachineAlias, UpdateStateMachineAlias,
//! DeleteStateMachineAlias and ListStateMachineAliases.

use serde_json::{Map, Value, json};
use stepwise_store::ResourceKind;

use super::records::{self, AliasRecord, Route, sort_key, ts};
use super::{Control, MAX_ALIASES, opt_str, req_str};
use crate::arn::{self, Accept, Arns, Resource, StateMachineRef};
use crate::error::ServiceError;
use crate::paging;

const INVALID_ROUTING: &str = "INVALID_ROUTING_CONFIGURATION";

fn routing_error(message: String) -> ServiceError {
    ServiceError::validation_reason(message, INVALID_ROUTING)
}

fn list_text<T: ToString>(items: impl Iterator<Item = T>) -> String {
    let parts: Vec<String> = items.map(|i| i.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

fn alias_output(arn: &str, alias: &AliasRecord) -> Value {
    let mut out = Map::new();
    out.insert("stateMachineAliasArn".into(), json!(arn));
    out.insert("name".into(), json!(alias.name));
    if let Some(d) = &alias.description {
        out.insert("description".into(), json!(d));
    }
    out.insert(
        "routingConfiguration".into(),
        records::routes_json(&alias.routing),
    );
    out.insert("creationDate".into(), ts(alias.creation_ms));
    out.insert("updateDate".into(), ts(alias.update_ms));
    Value::Object(out)
}

/// An alias ARN an action was given, or `InvalidArn`.
fn alias_ref(arn: &str) -> Result<String, ServiceError> {
    match arn::expect_state_machine(arn, Accept::ANY) {
        Ok(StateMachineRef::Alias { name, .. }) => Ok(name),
        Ok(_) | Err(None) => Err(ServiceError::invalid_arn(format_args!(
            "Not a state machine alias ARN: {arn}"
        ))),
        Err(Some(e)) => Err(e),
    }
}

impl Control {
    /// Checks a routing configuration as AWS does and returns the state machine it routes to.
    fn check_routing(&self, routes: &[Route]) -> Result<String, ServiceError> {
        let arns = || routes.iter().map(|r| r.state_machine_version_arn.as_str());
        let mut state_machines = Vec::new();
        for route in routes {
            match arn::parse(&route.state_machine_version_arn)?.resource {
                Resource::Version { state_machine, .. } => state_machines.push(state_machine),
                _ => {
                    return Err(routing_error(format!(
                        "Routing configuration must contain state machine version ARNs. Received: {}",
                        list_text(arns())
                    )));
                }
            }
        }
        let mut distinct: Vec<&str> = arns().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() != routes.len() {
            return Err(routing_error(format!(
                "Routing configuration must contain distinct state machine version ARNs. Received: {}",
                list_text(arns())
            )));
        }
        if state_machines.windows(2).any(|w| w[0] != w[1]) {
            return Err(routing_error(format!(
                "Routing configuration must contain state machine version ARNs of the same state machine. Received: {}",
                list_text(arns())
            )));
        }
        let total: u64 = routes.iter().map(|r| r.weight).sum();
        if total != 100 {
            return Err(routing_error(format!(
                "Sum of routing configuration weights must equal 100. Received: {}",
                list_text(routes.iter().map(|r| r.weight))
            )));
        }
        for route in routes {
            if self.version(&route.state_machine_version_arn)?.is_none() {
                return Err(ServiceError::resource_not_found(
                    &route.state_machine_version_arn,
                ));
            }
        }
        state_machines
            .into_iter()
            .next()
            .ok_or_else(|| routing_error("Routing configuration must not be empty".into()))
    }

    pub(super) fn create_state_machine_alias(&self, input: &Value) -> Result<Value, ServiceError> {
        let name = req_str(input, "name")?;
        let description = opt_str(input, "description");
        let routes = records::routes_of(input).unwrap_or_default();
        let _guard = self.lock();
        let sm_name = self.check_routing(&routes)?;
        let sm_arn = self.arns.state_machine(&sm_name);
        let alias_arn = self.arns.alias(&sm_name, name);
        if let Some(existing) = self.alias(&alias_arn)? {
            if existing.description.as_deref() == description && existing.routing == routes {
                return Ok(json!({
                    "stateMachineAliasArn": alias_arn,
                    "creationDate": ts(existing.creation_ms),
                }));
            }
            return Err(ServiceError::conflict(
                "Failed to create alias because an alias with the same name and a different routing configuration already exists.",
            ));
        }
        if self.aliases_of(&sm_arn)?.len() >= MAX_ALIASES {
            return Err(ServiceError::service_quota_exceeded(format!(
                "Maximum number of aliases ({MAX_ALIASES}) reached for state machine: '{sm_arn}'"
            )));
        }
        let created = self.now();
        let record = AliasRecord {
            name: name.to_string(),
            state_machine_arn: sm_arn.clone(),
            description: description.map(str::to_string),
            routing: routes,
            creation_ms: created,
            update_ms: created,
        };
        self.store.put_resource(&records::resource(
            &alias_arn,
            ResourceKind::Alias,
            Some(&sm_arn),
            sort_key::alias(self.now() * 1000, name),
            records::body(&record)?,
        ))?;
        Ok(json!({ "stateMachineAliasArn": alias_arn, "creationDate": ts(created) }))
    }

    pub(super) fn describe_state_machine_alias(
        &self,
        input: &Value,
    ) -> Result<Value, ServiceError> {
        let arn = req_str(input, "stateMachineAliasArn")?;
        alias_ref(arn)?;
        let alias = self
            .alias(arn)?
            .ok_or_else(|| ServiceError::resource_not_found_reference(arn))?;
        Ok(alias_output(arn, &alias))
    }

    pub(super) fn update_state_machine_alias(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = req_str(input, "stateMachineAliasArn")?;
        let sm_name = alias_ref(arn)?;
        let description = input.get("description").and_then(Value::as_str);
        let routes = records::routes_of(input);
        if description.is_none() && routes.is_none() {
            return Err(ServiceError::validation_reason(
                "Either the description or the routing configuration must be specified",
                "MISSING_REQUIRED_PARAMETER",
            ));
        }
        let _guard = self.lock();
        let stored = self
            .store
            .get_resource(arn)?
            .filter(|r| r.kind == ResourceKind::Alias)
            .ok_or_else(|| ServiceError::resource_not_found_reference(arn))?;
        let mut alias: AliasRecord = records::read(&stored)?;
        if let Some(routes) = routes {
            let routed_to = self.check_routing(&routes)?;
            if routed_to != sm_name {
                return Err(routing_error(format!(
                    "Routing configuration must contain versions of the alias's state machine. Received: {}",
                    list_text(routes.iter().map(|r| r.state_machine_version_arn.as_str()))
                )));
            }
            alias.routing = routes;
        }
        if let Some(d) = description {
            alias.description = Some(d.to_string());
        }
        alias.update_ms = self.now();
        let sm_arn = self.arns.state_machine(&sm_name);
        self.store.put_resource(&records::resource(
            arn,
            ResourceKind::Alias,
            Some(&sm_arn),
            stored.sort_key,
            records::body(&alias)?,
        ))?;
        Ok(json!({ "updateDate": ts(alias.update_ms) }))
    }

    pub(super) fn delete_state_machine_alias(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = req_str(input, "stateMachineAliasArn")?;
        alias_ref(arn)?;
        let _guard = self.lock();
        if self.alias(arn)?.is_some() {
            self.store.delete_resource(arn)?;
        }
        Ok(json!({}))
    }

    pub(super) fn list_state_machine_aliases(&self, input: &Value) -> Result<Value, ServiceError> {
        const LIST: &str = "ListStateMachineAliases";
        let arn = req_str(input, "stateMachineArn")?;
        let version = match arn::expect_state_machine(arn, Accept::WITH_VERSION) {
            Ok(StateMachineRef::Version { .. }) => Some(arn.to_string()),
            Ok(_) => None,
            Err(Some(e)) => return Err(e),
            Err(None) => {
                return Err(ServiceError::invalid_arn(format_args!(
                    "Resource type not valid in this context: {arn}"
                )));
            }
        };
        let sm_arn = Arns::unqualified(arn);
        if self.state_machine(&sm_arn)?.is_none() {
            return Err(ServiceError::state_machine_does_not_exist(arn));
        }
        if let Some(v) = &version {
            if self.version(v)?.is_none() {
                return Err(ServiceError::resource_not_found(v));
            }
        }
        let limit = paging::page_size_of(input);
        let after: Option<String> = paging::token_of(input, LIST, arn)?;
        let resources = self.store.list_resources(
            ResourceKind::Alias,
            Some(&sm_arn),
            after.as_deref(),
            MAX_ALIASES * 2,
        )?;
        let mut matching = Vec::new();
        for r in resources {
            let alias: AliasRecord = records::read(&r)?;
            let wanted = version.as_deref().is_none_or(|v| {
                alias
                    .routing
                    .iter()
                    .any(|route| route.state_machine_version_arn == v)
            });
            if wanted {
                matching.push((r.arn, r.sort_key, alias));
            }
        }
        let page = paging::cut_page(matching, limit, LIST, arn, |(_, key, _)| key.clone());
        let items: Vec<Value> = page
            .items
            .iter()
            .map(|(arn, _, alias)| {
                json!({ "stateMachineAliasArn": arn, "creationDate": ts(alias.creation_ms) })
            })
            .collect();
        let mut out = json!({ "stateMachineAliases": items });
        if let Some(t) = page.next_token {
            out["nextToken"] = json!(t);
        }
        Ok(out)
    }
}
