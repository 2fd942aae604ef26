//! CreateStateMachineAlias, DescribeStateMachineAlias, UpdateStateMachineAlias,
//! DeleteStateMachineAlias and ListStateMachineAliases.

use stepwise_store::ResourceKind;

use super::records::{self, AliasRecord, Route, sort_key};
use super::{Control, MAX_ALIASES};
use crate::arn::{self, Accept, Arns, Resource, StateMachineRef};
use crate::error::ServiceError;
use crate::paging;
use crate::time::seconds;
use crate::types::{
    CreateStateMachineAliasInput, CreateStateMachineAliasOutput, DeleteStateMachineAliasInput,
    DeleteStateMachineAliasOutput, DescribeStateMachineAliasInput, DescribeStateMachineAliasOutput,
    ListStateMachineAliasesInput, ListStateMachineAliasesOutput, StateMachineAliasListItem,
    UpdateStateMachineAliasInput, UpdateStateMachineAliasOutput,
};

const INVALID_ROUTING: &str = "INVALID_ROUTING_CONFIGURATION";

fn routing_error(message: String) -> ServiceError {
    ServiceError::validation_reason(message, INVALID_ROUTING)
}

fn list_text<T: ToString>(items: impl Iterator<Item = T>) -> String {
    let parts: Vec<String> = items.map(|i| i.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

fn alias_output(arn: String, alias: AliasRecord) -> DescribeStateMachineAliasOutput {
    DescribeStateMachineAliasOutput {
        state_machine_alias_arn: Some(arn),
        name: Some(alias.name),
        description: alias.description,
        routing_configuration: Some(alias.routing),
        creation_date: Some(seconds(alias.creation_ms)),
        update_date: Some(seconds(alias.update_ms)),
    }
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
    async fn check_routing(&self, routes: &[Route]) -> Result<String, ServiceError> {
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
        let total: i64 = routes.iter().map(|r| r.weight).sum();
        if total != 100 {
            return Err(routing_error(format!(
                "Sum of routing configuration weights must equal 100. Received: {}",
                list_text(routes.iter().map(|r| r.weight))
            )));
        }
        for route in routes {
            if self
                .version(&route.state_machine_version_arn)
                .await?
                .is_none()
            {
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

    pub async fn create_state_machine_alias(
        &self,
        input: CreateStateMachineAliasInput,
    ) -> Result<CreateStateMachineAliasOutput, ServiceError> {
        let CreateStateMachineAliasInput {
            description,
            name,
            routing_configuration: routes,
        } = input;
        let _guard = self.lock().await?;
        let sm_name = self.check_routing(&routes).await?;
        // The alias is made in the account of the versions it routes to.
        let arns = routes
            .first()
            .and_then(|r| Arns::of(&r.state_machine_version_arn))
            .unwrap_or_else(|| self.arns());
        let sm_arn = arns.state_machine(&sm_name);
        let alias_arn = arns.alias(&sm_name, &name);
        if let Some(existing) = self.alias(&alias_arn).await? {
            if existing.description == description && existing.routing == routes {
                return Ok(CreateStateMachineAliasOutput::new(
                    alias_arn,
                    seconds(existing.creation_ms),
                ));
            }
            return Err(ServiceError::conflict(
                "Failed to create alias because an alias with the same name and a different routing configuration already exists.",
            ));
        }
        if self.aliases_of(&sm_arn).await?.len() >= MAX_ALIASES {
            return Err(ServiceError::service_quota_exceeded(format!(
                "Maximum number of aliases ({MAX_ALIASES}) reached for state machine: '{sm_arn}'"
            )));
        }
        let created = self.now();
        let sort_key = sort_key::alias(self.now() * 1000, &name);
        let record = AliasRecord {
            name,
            state_machine_arn: sm_arn.clone(),
            description,
            routing: routes,
            creation_ms: created,
            update_ms: created,
        };
        self.store
            .put_resource(&records::resource(
                &alias_arn,
                ResourceKind::Alias,
                Some(&sm_arn),
                sort_key,
                records::body(&record)?,
            ))
            .await?;
        Ok(CreateStateMachineAliasOutput::new(
            alias_arn,
            seconds(created),
        ))
    }

    pub async fn describe_state_machine_alias(
        &self,
        input: DescribeStateMachineAliasInput,
    ) -> Result<DescribeStateMachineAliasOutput, ServiceError> {
        let arn = input.state_machine_alias_arn;
        alias_ref(&arn)?;
        let alias = self
            .alias(&arn)
            .await?
            .ok_or_else(|| ServiceError::resource_not_found_reference(&arn))?;
        Ok(alias_output(arn, alias))
    }

    pub async fn update_state_machine_alias(
        &self,
        input: UpdateStateMachineAliasInput,
    ) -> Result<UpdateStateMachineAliasOutput, ServiceError> {
        let UpdateStateMachineAliasInput {
            state_machine_alias_arn: arn,
            description,
            routing_configuration: routes,
        } = input;
        let arn = &*arn;
        let sm_name = alias_ref(arn)?;
        if description.is_none() && routes.is_none() {
            return Err(ServiceError::validation_reason(
                "Either the description or the routing configuration must be specified",
                "MISSING_REQUIRED_PARAMETER",
            ));
        }
        let _guard = self.lock().await?;
        let stored = self
            .store
            .get_resource(arn)
            .await?
            .filter(|r| r.kind == ResourceKind::Alias)
            .ok_or_else(|| ServiceError::resource_not_found_reference(arn))?;
        let mut alias: AliasRecord = records::read(&stored)?;
        if let Some(routes) = routes {
            let routed_to = self.check_routing(&routes).await?;
            if routed_to != sm_name {
                return Err(routing_error(format!(
                    "Routing configuration must contain versions of the alias's state machine. Received: {}",
                    list_text(routes.iter().map(|r| r.state_machine_version_arn.as_str()))
                )));
            }
            alias.routing = routes;
        }
        if let Some(d) = description {
            alias.description = Some(d);
        }
        alias.update_ms = self.now();
        let sm_arn = Arns::unqualified(arn);
        self.store
            .put_resource(&records::resource(
                arn,
                ResourceKind::Alias,
                Some(&sm_arn),
                stored.sort_key,
                records::body(&alias)?,
            ))
            .await?;
        Ok(UpdateStateMachineAliasOutput::new(seconds(alias.update_ms)))
    }

    pub async fn delete_state_machine_alias(
        &self,
        input: DeleteStateMachineAliasInput,
    ) -> Result<DeleteStateMachineAliasOutput, ServiceError> {
        let arn = &*input.state_machine_alias_arn;
        alias_ref(arn)?;
        let _guard = self.lock().await?;
        if self.alias(arn).await?.is_some() {
            self.store.delete_resource(arn).await?;
        }
        Ok(DeleteStateMachineAliasOutput::new())
    }

    pub async fn list_state_machine_aliases(
        &self,
        input: ListStateMachineAliasesInput,
    ) -> Result<ListStateMachineAliasesOutput, ServiceError> {
        const LIST: &str = "ListStateMachineAliases";
        let arn = &*input.state_machine_arn;
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
        if self.state_machine(&sm_arn).await?.is_none() {
            return Err(ServiceError::state_machine_does_not_exist(arn));
        }
        if let Some(v) = &version {
            if self.version(v).await?.is_none() {
                return Err(ServiceError::resource_not_found(v));
            }
        }
        let limit = paging::page_size(input.max_results);
        let after: Option<String> = paging::token_of(input.next_token.as_deref(), LIST, arn)?;
        let resources = self
            .store
            .list_resources(
                ResourceKind::Alias,
                Some(&sm_arn),
                after.as_deref(),
                MAX_ALIASES * 2,
            )
            .await?;
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
        let items = page
            .items
            .into_iter()
            .map(|(arn, _, alias)| StateMachineAliasListItem::new(arn, seconds(alias.creation_ms)))
            .collect();
        Ok(ListStateMachineAliasesOutput {
            state_machine_aliases: items,
            next_token: page.next_token,
        })
    }
}
