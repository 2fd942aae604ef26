//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines, ValidateStateMachineDefinition and DescribeStateMachineForExecution.

use sha2::{Digest, Sha256};
use stepwise_asl::{MachineType, ParseOptions, Severity, validate_definition as asl_validate};
use stepwise_store::ResourceKind;

use super::records::{
    self, StateMachineRecord, VersionRecord, default_logging, default_tracing, sort_key,
};
use super::{Control, MAX_TAGS};
use crate::arn::{self, Accept, StateMachineRef};
use crate::error::ServiceError;
use crate::time::seconds;
use crate::types::{
    CreateStateMachineInput, CreateStateMachineOutput, DeleteStateMachineInput,
    DeleteStateMachineOutput, DescribeStateMachineForExecutionInput,
    DescribeStateMachineForExecutionOutput, DescribeStateMachineInput, DescribeStateMachineOutput,
    EncryptionConfiguration, ListStateMachinesInput, ListStateMachinesOutput, LoggingConfiguration,
    StateMachineListItem, StateMachineStatus, StateMachineType, TracingConfiguration,
    UpdateStateMachineInput, UpdateStateMachineOutput, ValidateStateMachineDefinitionDiagnostic,
    ValidateStateMachineDefinitionInput, ValidateStateMachineDefinitionOutput,
    ValidateStateMachineDefinitionResultCode, ValidateStateMachineDefinitionSeverity,
};

/// The hex SHA-256 of a definition: the key it is stored under.
pub fn definition_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_options(machine: StateMachineType) -> ParseOptions {
    ParseOptions {
        machine_type: match machine {
            StateMachineType::Express => MachineType::Express,
            StateMachineType::Standard => MachineType::Standard,
        },
    }
}

/// `InvalidDefinition` with the asl crate's AWS wording unless the definition is valid.
fn check_definition(text: &str, machine: StateMachineType) -> Result<(), ServiceError> {
    match asl_validate(text, parse_options(machine)).invalid_definition_message() {
        Some(message) => Err(ServiceError::invalid_definition(message)),
        None => Ok(()),
    }
}

/// `roleArn` must at least look like an ARN.
fn check_role_arn(role: &str) -> Result<(), ServiceError> {
    let fields: Vec<&str> = role.splitn(6, ':').collect();
    if fields.len() == 6 && fields[0] == "arn" && !fields[5].is_empty() {
        Ok(())
    } else {
        Err(ServiceError::invalid_arn(format_args!(
            "Invalid ARN prefix: {role}"
        )))
    }
}

fn version_description_needs_publish(
    description: Option<&str>,
    publish: bool,
) -> Result<(), ServiceError> {
    if description.is_some() && !publish {
        return Err(ServiceError::validation(
            "Version description can only be set when publish is true",
        ));
    }
    Ok(())
}

/// What DescribeStateMachine shows of a state machine or one of its versions.
struct Described<'a> {
    arn: String,
    name: &'a str,
    definition: String,
    role_arn: &'a str,
    machine_type: StateMachineType,
    creation_ms: i64,
    logging: &'a LoggingConfiguration,
    tracing: &'a TracingConfiguration,
    revision_id: Option<&'a str>,
    description: Option<&'a str>,
    encryption: Option<&'a EncryptionConfiguration>,
}

impl Described<'_> {
    fn output(self) -> DescribeStateMachineOutput {
        DescribeStateMachineOutput {
            status: Some(StateMachineStatus::Active),
            logging_configuration: Some(self.logging.clone()),
            tracing_configuration: Some(self.tracing.clone()),
            revision_id: self.revision_id.map(str::to_owned),
            description: self.description.map(str::to_owned),
            encryption_configuration: Some(records::encryption_or_default(self.encryption)),
            ..DescribeStateMachineOutput::new(
                self.arn,
                self.name,
                self.definition,
                self.role_arn,
                self.machine_type,
                seconds(self.creation_ms),
            )
        }
    }
}

impl Control {
    /// ValidateStateMachineDefinition: the asl crate's diagnostics in the API's shape.
    pub fn validate_state_machine_definition(
        &self,
        input: ValidateStateMachineDefinitionInput,
    ) -> Result<ValidateStateMachineDefinitionOutput, ServiceError> {
        let machine = input.r#type.unwrap_or(StateMachineType::Standard);
        let with_warnings = input.severity == Some(ValidateStateMachineDefinitionSeverity::Warning);
        let max = match input.max_results {
            Some(n) if n > 0 => usize::try_from(n).unwrap_or(100).min(100),
            _ => 100,
        };
        let report = asl_validate(&input.definition, parse_options(machine));
        let shown: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| with_warnings || d.severity == Severity::Error)
            .collect();
        let truncated = shown.len() > max;
        let diagnostics = shown
            .into_iter()
            .take(max)
            .map(|d| ValidateStateMachineDefinitionDiagnostic {
                location: d.location.clone(),
                ..ValidateStateMachineDefinitionDiagnostic::new(
                    match d.severity {
                        Severity::Error => ValidateStateMachineDefinitionSeverity::Error,
                        Severity::Warning => ValidateStateMachineDefinitionSeverity::Warning,
                    },
                    d.code.as_str(),
                    &*d.message,
                )
            })
            .collect::<Vec<_>>();
        let result = if report.is_valid() {
            ValidateStateMachineDefinitionResultCode::Ok
        } else {
            ValidateStateMachineDefinitionResultCode::Fail
        };
        Ok(ValidateStateMachineDefinitionOutput::new(result, diagnostics).truncated(truncated))
    }

    pub async fn create_state_machine(
        &self,
        input: CreateStateMachineInput,
    ) -> Result<CreateStateMachineOutput, ServiceError> {
        let CreateStateMachineInput {
            name,
            definition,
            role_arn,
            r#type,
            logging_configuration,
            tags,
            tracing_configuration,
            publish,
            version_description,
            encryption_configuration: encryption,
        } = input;
        let machine = r#type.unwrap_or(StateMachineType::Standard);
        let publish = publish.unwrap_or(false);
        arn::check_name(&name)?;
        check_role_arn(&role_arn)?;
        version_description_needs_publish(version_description.as_deref(), publish)?;
        let logging = records::logging_configuration(logging_configuration)?;
        let tracing = records::tracing_configuration(tracing_configuration);
        check_definition(&definition, machine)?;
        let tags = records::tags_of(tags);
        let arn = self.arns().state_machine(&name);
        if tags.len() > MAX_TAGS {
            return Err(ServiceError::too_many_tags(&arn, MAX_TAGS));
        }
        let hash = definition_hash(&definition);

        let _guard = self.lock().await?;
        if let Some(existing) = self.state_machine(&arn).await? {
            // Idempotent on name, definition, type, logging, tracing, publish and
            // versionDescription; roleArn and tags are ignored (API reference).
            let same = existing.definition_hash == hash
                && existing.machine_type == machine
                && existing.logging == logging
                && existing.tracing == tracing
                && existing.created_published == publish
                && existing.created_version_description == version_description;
            if !same {
                return Err(ServiceError::state_machine_already_exists(&arn));
            }
            let version = publish.then(|| self.arns().version(&name, 1));
            return Ok(CreateStateMachineOutput {
                state_machine_version_arn: version,
                ..CreateStateMachineOutput::new(&*arn, seconds(existing.creation_ms))
            });
        }

        let created = self.now();
        self.store.put_definition(&hash, &definition).await?;
        let mut record = StateMachineRecord {
            name,
            machine_type: machine,
            role_arn,
            definition_hash: hash,
            creation_ms: created,
            update_ms: created,
            logging,
            tracing,
            encryption,
            revision_id: None,
            revision_version: None,
            next_version: 1,
            tags,
            created_published: publish,
            created_version_description: version_description,
        };
        let mut out = CreateStateMachineOutput::new(&*arn, seconds(created));
        let version = if publish {
            let description = record.created_version_description.clone();
            let (version_arn, version) = self
                .new_version(&mut record, description.as_deref(), created)
                .await;
            out.state_machine_version_arn = Some(version_arn);
            Some(version)
        } else {
            None
        };
        let sm = records::resource(
            &arn,
            ResourceKind::StateMachine,
            self.account_scope().as_deref(),
            sort_key::by_name(&record.name),
            records::body(&record)?,
        );
        self.store.create_resource(&sm).await.map_err(|e| match e {
            stepwise_store::StoreError::Conflict(_) => {
                ServiceError::state_machine_already_exists(&arn)
            }
            other => other.into(),
        })?;
        if let Some(v) = version {
            self.store.put_resource(&v).await?;
        }
        Ok(out)
    }

    /// A version of the state machine's current revision, numbered next; updates the record's
    /// counters (the caller writes the record).
    pub(super) async fn new_version(
        &self,
        sm: &mut StateMachineRecord,
        description: Option<&str>,
        created: i64,
    ) -> (String, stepwise_store::Resource) {
        let number = sm.next_version;
        sm.next_version += 1;
        sm.revision_version = Some(number);
        let version_arn = self.arns().version(&sm.name, number);
        let record = VersionRecord {
            state_machine_name: sm.name.clone(),
            version: number,
            machine_type: sm.machine_type,
            role_arn: sm.role_arn.clone(),
            definition_hash: sm.definition_hash.clone(),
            creation_ms: created,
            logging: sm.logging.clone(),
            tracing: sm.tracing.clone(),
            encryption: sm.encryption.clone(),
            revision_id: sm.revision_id.clone(),
            description: description.map(str::to_string),
        };
        let body = records::body(&record).unwrap_or_default();
        let resource = records::resource(
            &version_arn,
            ResourceKind::Version,
            Some(&self.arns().state_machine(&sm.name)),
            sort_key::version(number),
            body,
        );
        (version_arn, resource)
    }

    pub async fn describe_state_machine(
        &self,
        input: DescribeStateMachineInput,
    ) -> Result<DescribeStateMachineOutput, ServiceError> {
        let arn = input.state_machine_arn;
        let reference = match arn::expect_state_machine(&arn, Accept::WITH_VERSION) {
            Ok(r) => r,
            Err(Some(e)) => return Err(e),
            Err(None) => return Err(ServiceError::state_machine_does_not_exist(&arn)),
        };
        match reference {
            StateMachineRef::Unqualified { .. } => {
                let sm = self
                    .state_machine(&arn)
                    .await?
                    .ok_or_else(|| ServiceError::state_machine_does_not_exist(&arn))?;
                Ok(Described {
                    definition: self.definition(&sm.definition_hash).await?,
                    arn,
                    name: &sm.name,
                    role_arn: &sm.role_arn,
                    machine_type: sm.machine_type,
                    creation_ms: sm.creation_ms,
                    logging: &sm.logging,
                    tracing: &sm.tracing,
                    revision_id: sm.revision_id.as_deref(),
                    description: None,
                    encryption: sm.encryption.as_ref(),
                }
                .output())
            }
            _ => {
                let v = self
                    .version(&arn)
                    .await?
                    .ok_or_else(|| ServiceError::state_machine_does_not_exist(&arn))?;
                Ok(Described {
                    definition: self.definition(&v.definition_hash).await?,
                    arn,
                    name: &v.state_machine_name,
                    role_arn: &v.role_arn,
                    machine_type: v.machine_type,
                    creation_ms: v.creation_ms,
                    logging: &v.logging,
                    tracing: &v.tracing,
                    revision_id: v.revision_id.as_deref(),
                    description: v.description.as_deref(),
                    encryption: v.encryption.as_ref(),
                }
                .output())
            }
        }
    }

    pub async fn update_state_machine(
        &self,
        input: UpdateStateMachineInput,
    ) -> Result<UpdateStateMachineOutput, ServiceError> {
        let UpdateStateMachineInput {
            state_machine_arn: arn,
            definition,
            role_arn,
            logging_configuration,
            tracing_configuration,
            publish,
            version_description,
            encryption_configuration: encryption,
        } = input;
        match arn::expect_state_machine(&arn, Accept::UNQUALIFIED) {
            Ok(_) => {}
            Err(Some(e)) => return Err(e),
            Err(None) => return Err(ServiceError::state_machine_does_not_exist(&arn)),
        }
        if definition.is_none()
            && role_arn.is_none()
            && logging_configuration.is_none()
            && tracing_configuration.is_none()
            && encryption.is_none()
        {
            return Err(ServiceError::missing_required_parameter(
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified",
            ));
        }
        let publish = publish.unwrap_or(false);
        version_description_needs_publish(version_description.as_deref(), publish)?;
        if let Some(role) = &role_arn {
            check_role_arn(role)?;
        }
        let logging = logging_configuration
            .map(|l| records::logging_configuration(Some(l)))
            .transpose()?;
        let tracing = tracing_configuration.map(|t| records::tracing_configuration(Some(t)));

        let _guard = self.lock().await?;
        let mut sm = self
            .state_machine(&arn)
            .await?
            .ok_or_else(|| ServiceError::state_machine_does_not_exist(&arn))?;
        if let Some(text) = &definition {
            check_definition(text, sm.machine_type)?;
        }
        let mut changed = false;
        if let Some(text) = &definition {
            let hash = definition_hash(text);
            if hash != sm.definition_hash {
                self.store.put_definition(&hash, text).await?;
                sm.definition_hash = hash;
                changed = true;
            }
        }
        if let Some(role) = role_arn.filter(|r| *r != sm.role_arn) {
            sm.role_arn = role;
            changed = true;
        }
        if let Some(l) = logging.filter(|l| *l != sm.logging) {
            sm.logging = l;
            changed = true;
        }
        if let Some(t) = tracing.filter(|t| *t != sm.tracing) {
            sm.tracing = t;
            changed = true;
        }
        if let Some(e) = encryption.filter(|e| sm.encryption.as_ref() != Some(e)) {
            sm.encryption = Some(e);
            changed = true;
        }
        let updated = self.now();
        if changed {
            sm.revision_id = Some(self.clock().uuid());
            sm.revision_version = None;
            sm.update_ms = updated;
        }
        let mut out = UpdateStateMachineOutput {
            revision_id: sm.revision_id.clone(),
            ..UpdateStateMachineOutput::new(seconds(if changed { updated } else { sm.update_ms }))
        };
        let mut new_version = None;
        if publish {
            match self.published_version_of_revision(&sm).await? {
                Some(existing) => out.state_machine_version_arn = Some(existing),
                None => {
                    self.check_version_quota(&sm).await?;
                    let (version_arn, v) = self
                        .new_version(&mut sm, version_description.as_deref(), updated)
                        .await;
                    out.state_machine_version_arn = Some(version_arn);
                    new_version = Some(v);
                }
            }
        }
        self.put_state_machine(&sm).await?;
        if let Some(v) = new_version {
            self.store.put_resource(&v).await?;
        }
        Ok(out)
    }

    /// The ARN of the version published from the state machine's current revision, if it still
    /// exists.
    pub(super) async fn published_version_of_revision(
        &self,
        sm: &StateMachineRecord,
    ) -> Result<Option<String>, ServiceError> {
        let Some(n) = sm.revision_version else {
            return Ok(None);
        };
        let arn = self.arns().version(&sm.name, n);
        Ok(self.version(&arn).await?.map(|_| arn))
    }

    pub(super) async fn check_version_quota(
        &self,
        sm: &StateMachineRecord,
    ) -> Result<(), ServiceError> {
        let parent = self.arns().state_machine(&sm.name);
        let versions = self
            .store
            .list_resources(
                ResourceKind::Version,
                Some(&parent),
                None,
                super::MAX_VERSIONS,
            )
            .await?;
        if versions.len() >= super::MAX_VERSIONS {
            return Err(ServiceError::service_quota_exceeded(format!(
                "Maximum number of versions ({}) reached for state machine: '{parent}'",
                super::MAX_VERSIONS
            )));
        }
        Ok(())
    }

    pub(super) async fn put_state_machine(
        &self,
        sm: &StateMachineRecord,
    ) -> Result<(), ServiceError> {
        let arn = self.arns().state_machine(&sm.name);
        let resource = records::resource(
            &arn,
            ResourceKind::StateMachine,
            self.account_scope().as_deref(),
            sort_key::by_name(&sm.name),
            records::body(sm)?,
        );
        self.store.put_resource(&resource).await?;
        Ok(())
    }

    pub async fn delete_state_machine(
        &self,
        input: DeleteStateMachineInput,
    ) -> Result<DeleteStateMachineOutput, ServiceError> {
        let sm_arn = input.state_machine_arn;
        match arn::expect_state_machine(&sm_arn, Accept::UNQUALIFIED) {
            Ok(_) => {}
            Err(Some(e)) => return Err(e),
            Err(None) => {
                return Err(ServiceError::validation(format!(
                    "DeleteStateMachine takes an unqualified state machine ARN; use DeleteStateMachineVersion or DeleteStateMachineAlias for: '{sm_arn}'"
                )));
            }
        }
        let _guard = self.lock().await?;
        // Versions and aliases go with their state machine.
        for kind in [ResourceKind::Alias, ResourceKind::Version] {
            loop {
                let batch = self
                    .store
                    .list_resources(kind, Some(&sm_arn), None, 500)
                    .await?;
                if batch.is_empty() {
                    break;
                }
                for r in &batch {
                    self.store.delete_resource(&r.arn).await?;
                }
            }
        }
        self.store.delete_resource(&sm_arn).await?;
        Ok(DeleteStateMachineOutput::new())
    }

    pub async fn list_state_machines(
        &self,
        input: ListStateMachinesInput,
    ) -> Result<ListStateMachinesOutput, ServiceError> {
        let (state_machines, next_token) = self
            .list_page(
                "ListStateMachines",
                ResourceKind::StateMachine,
                self.account_scope().as_deref(),
                (input.max_results, input.next_token.as_deref()),
                |arn, sm: StateMachineRecord| {
                    StateMachineListItem::new(
                        arn,
                        sm.name,
                        sm.machine_type,
                        seconds(sm.creation_ms),
                    )
                },
            )
            .await?;
        Ok(ListStateMachinesOutput {
            state_machines,
            next_token,
        })
    }

    pub async fn describe_state_machine_for_execution(
        &self,
        input: DescribeStateMachineForExecutionInput,
    ) -> Result<DescribeStateMachineForExecutionOutput, ServiceError> {
        let arn = input.execution_arn;
        // AWS does not support this action for Express executions; it refuses their ARNs as it
        // does for DescribeExecution.
        arn::expect_standard_execution(&arn)?;
        let record = self
            .store
            .get_execution(&arn)
            .await?
            .ok_or_else(|| ServiceError::execution_does_not_exist(&arn))?;
        let name = stepwise_engine::StateMachineArn::parse(&record.state_machine_arn)
            .map(|m| m.name().to_owned())
            .unwrap_or_default();
        let definition = self.definition(&record.definition_hash).await?;
        let version = match &record.version_arn {
            Some(v) => self.version(v).await?,
            None => None,
        };
        let sm = self.state_machine(&record.state_machine_arn).await?;
        let (update_ms, logging, tracing, revision_id, encryption) = match (version, sm) {
            (Some(v), _) => (
                v.creation_ms,
                v.logging,
                v.tracing,
                v.revision_id,
                v.encryption,
            ),
            (None, Some(s)) => (
                s.update_ms,
                s.logging,
                s.tracing,
                // The revision is only known while the state machine still runs it.
                s.revision_id
                    .filter(|_| s.definition_hash == record.definition_hash),
                s.encryption,
            ),
            (None, None) => (
                record.start_ms,
                default_logging(),
                default_tracing(),
                None,
                None,
            ),
        };
        Ok(DescribeStateMachineForExecutionOutput {
            logging_configuration: Some(logging),
            tracing_configuration: Some(tracing),
            revision_id,
            encryption_configuration: Some(records::encryption_or_default(encryption.as_ref())),
            ..DescribeStateMachineForExecutionOutput::new(
                record.state_machine_arn,
                name,
                definition,
                record.role_arn,
                seconds(update_ms),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(
            definition_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn role_arns_must_look_like_arns() {
        assert!(check_role_arn("arn:aws:iam::123456789012:role/r").is_ok());
        assert_eq!(
            check_role_arn("role").unwrap_err().message,
            "Invalid Arn: 'Invalid ARN prefix: role'"
        );
    }
}
