//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines, ValidateStateMachineDefinition and DescribeStateMachineForExecution.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use stepwise_asl::{MachineType, ParseOptions, Severity, validate_definition as asl_validate};
use stepwise_store::ResourceKind;

use super::records::{
    self, StateMachineRecord, VersionRecord, default_logging, default_tracing, sort_key, ts,
};
use super::{Control, MAX_TAGS, opt_bool, opt_str, req_str};
use crate::arn::{self, Accept, StateMachineRef};
use crate::error::ServiceError;
use crate::paging;

/// The hex SHA-256 of a definition: the key it is stored under.
pub fn definition_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn machine_type(text: &str) -> MachineType {
    if text == "EXPRESS" {
        MachineType::Express
    } else {
        MachineType::Standard
    }
}

/// `InvalidDefinition` with the asl crate's AWS wording unless the definition is valid.
fn check_definition(text: &str, machine: &str) -> Result<(), ServiceError> {
    let report = asl_validate(
        text,
        ParseOptions {
            machine_type: machine_type(machine),
        },
    );
    match report.invalid_definition_message() {
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

fn version_description_needs_publish(input: &Value) -> Result<(), ServiceError> {
    if input
        .get("versionDescription")
        .is_some_and(|v| !v.is_null())
        && !opt_bool(input, "publish")
    {
        return Err(ServiceError::validation(
            "Version description can only be set when publish is true",
        ));
    }
    Ok(())
}

/// What DescribeStateMachine shows of a state machine or one of its versions.
struct Described<'a> {
    arn: &'a str,
    name: &'a str,
    definition: String,
    role_arn: &'a str,
    machine_type: &'a str,
    creation_ms: i64,
    logging: &'a Value,
    tracing: &'a Value,
    revision_id: Option<&'a str>,
    description: Option<&'a str>,
    encryption: Option<&'a Value>,
}

impl Described<'_> {
    fn output(self) -> Value {
        let mut out = Map::new();
        out.insert("stateMachineArn".into(), json!(self.arn));
        out.insert("name".into(), json!(self.name));
        out.insert("status".into(), json!("ACTIVE"));
        out.insert("definition".into(), Value::String(self.definition));
        out.insert("roleArn".into(), json!(self.role_arn));
        out.insert("type".into(), json!(self.machine_type));
        out.insert("creationDate".into(), ts(self.creation_ms));
        out.insert("loggingConfiguration".into(), self.logging.clone());
        out.insert("tracingConfiguration".into(), self.tracing.clone());
        if let Some(r) = self.revision_id {
            out.insert("revisionId".into(), json!(r));
        }
        if let Some(d) = self.description {
            out.insert("description".into(), json!(d));
        }
        out.insert(
            "encryptionConfiguration".into(),
            records::encryption_or_default(self.encryption),
        );
        Value::Object(out)
    }
}

/// ValidateStateMachineDefinition: the asl crate's diagnostics in the API's shape.
pub(super) fn validate_definition(input: &Value) -> Value {
    let text = opt_str(input, "definition").unwrap_or_default();
    let machine = opt_str(input, "type").unwrap_or("STANDARD");
    let with_warnings = opt_str(input, "severity") == Some("WARNING");
    let max = match input.get("maxResults").and_then(Value::as_u64) {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(100).min(100),
        _ => 100,
    };
    let report = asl_validate(
        text,
        ParseOptions {
            machine_type: machine_type(machine),
        },
    );
    let shown: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| with_warnings || d.severity == Severity::Error)
        .collect();
    let truncated = shown.len() > max;
    let diagnostics: Vec<Value> = shown
        .into_iter()
        .take(max)
        .map(|d| {
            let mut o = Map::new();
            o.insert("severity".into(), json!(d.severity.as_str()));
            o.insert("code".into(), json!(d.code.as_str()));
            o.insert("message".into(), json!(d.message));
            if let Some(l) = &d.location {
                o.insert("location".into(), json!(l));
            }
            Value::Object(o)
        })
        .collect();
    json!({
        "result": if report.is_valid() { "OK" } else { "FAIL" },
        "diagnostics": diagnostics,
        "truncated": truncated,
    })
}

impl Control {
    pub(super) fn create_state_machine(&self, input: &Value) -> Result<Value, ServiceError> {
        let name = req_str(input, "name")?;
        let definition = req_str(input, "definition")?;
        let role_arn = req_str(input, "roleArn")?;
        let machine = opt_str(input, "type").unwrap_or("STANDARD");
        let publish = opt_bool(input, "publish");
        let version_description = opt_str(input, "versionDescription");
        arn::check_name(name)?;
        check_role_arn(role_arn)?;
        version_description_needs_publish(input)?;
        let logging = records::logging_configuration(input.get("loggingConfiguration"))?;
        let tracing = records::tracing_configuration(input.get("tracingConfiguration"));
        let encryption = input
            .get("encryptionConfiguration")
            .filter(|v| !v.is_null())
            .cloned();
        check_definition(definition, machine)?;
        let tags = records::tags_of(input);
        let arn = self.arns.state_machine(name);
        if tags.len() > MAX_TAGS {
            return Err(ServiceError::too_many_tags(&arn, MAX_TAGS));
        }
        let hash = definition_hash(definition);

        let _guard = self.lock();
        if let Some(existing) = self.state_machine(&arn)? {
            // Idempotent on name, definition, type, logging, tracing, publish and
            // versionDescription; roleArn and tags are ignored (API reference).
            let same = existing.definition_hash == hash
                && existing.machine_type == machine
                && existing.logging == logging
                && existing.tracing == tracing
                && existing.created_published == publish
                && existing.created_version_description.as_deref() == version_description;
            if !same {
                return Err(ServiceError::state_machine_already_exists(&arn));
            }
            let mut out = json!({
                "stateMachineArn": arn,
                "creationDate": ts(existing.creation_ms),
            });
            if publish {
                out["stateMachineVersionArn"] = json!(self.arns.version(name, 1));
            }
            return Ok(out);
        }

        let created = self.now();
        self.store.put_definition(&hash, definition)?;
        let mut record = StateMachineRecord {
            name: name.to_string(),
            machine_type: machine.to_string(),
            role_arn: role_arn.to_string(),
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
            created_version_description: version_description.map(str::to_string),
        };
        let mut out = json!({ "stateMachineArn": arn, "creationDate": ts(created) });
        let version = if publish {
            let (version_arn, version) =
                self.new_version(&mut record, version_description, created);
            out["stateMachineVersionArn"] = json!(version_arn);
            Some(version)
        } else {
            None
        };
        let sm = records::resource(
            &arn,
            ResourceKind::StateMachine,
            None,
            sort_key::by_name(name),
            records::body(&record)?,
        );
        self.store.create_resource(&sm).map_err(|e| match e {
            stepwise_store::StoreError::Conflict(_) => {
                ServiceError::state_machine_already_exists(&arn)
            }
            other => other.into(),
        })?;
        if let Some(v) = version {
            self.store.put_resource(&v)?;
        }
        Ok(out)
    }

    /// A version of the state machine's current revision, numbered next; updates the record's
    /// counters (the caller writes the record).
    pub(super) fn new_version(
        &self,
        sm: &mut StateMachineRecord,
        description: Option<&str>,
        created: i64,
    ) -> (String, stepwise_store::Resource) {
        let number = sm.next_version;
        sm.next_version += 1;
        sm.revision_version = Some(number);
        let version_arn = self.arns.version(&sm.name, number);
        let record = VersionRecord {
            state_machine_name: sm.name.clone(),
            version: number,
            machine_type: sm.machine_type.clone(),
            role_arn: sm.role_arn.clone(),
            definition_hash: sm.definition_hash.clone(),
            creation_ms: created,
            logging: sm.logging.clone(),
            tracing: sm.tracing.clone(),
            encryption: sm.encryption.clone(),
            revision_id: sm.revision_id.clone(),
            description: description.map(str::to_string),
        };
        let body = records::body(&record).unwrap_or(Value::Null);
        let resource = records::resource(
            &version_arn,
            ResourceKind::Version,
            Some(&self.arns.state_machine(&sm.name)),
            sort_key::version(number),
            body,
        );
        (version_arn, resource)
    }

    pub(super) fn describe_state_machine(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = req_str(input, "stateMachineArn")?;
        let reference = match arn::expect_state_machine(arn, Accept::WITH_VERSION) {
            Ok(r) => r,
            Err(Some(e)) => return Err(e),
            Err(None) => return Err(ServiceError::state_machine_does_not_exist(arn)),
        };
        match reference {
            StateMachineRef::Unqualified { .. } => {
                let sm = self
                    .state_machine(arn)?
                    .ok_or_else(|| ServiceError::state_machine_does_not_exist(arn))?;
                Ok(Described {
                    arn,
                    name: &sm.name,
                    definition: self.definition(&sm.definition_hash)?,
                    role_arn: &sm.role_arn,
                    machine_type: &sm.machine_type,
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
                    .version(arn)?
                    .ok_or_else(|| ServiceError::state_machine_does_not_exist(arn))?;
                Ok(Described {
                    arn,
                    name: &v.state_machine_name,
                    definition: self.definition(&v.definition_hash)?,
                    role_arn: &v.role_arn,
                    machine_type: &v.machine_type,
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

    pub(super) fn update_state_machine(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = req_str(input, "stateMachineArn")?;
        match arn::expect_state_machine(arn, Accept::UNQUALIFIED) {
            Ok(_) => {}
            Err(Some(e)) => return Err(e),
            Err(None) => return Err(ServiceError::state_machine_does_not_exist(arn)),
        }
        let definition = opt_str(input, "definition");
        let role_arn = opt_str(input, "roleArn");
        let present = |m: &str| input.get(m).is_some_and(|v| !v.is_null());
        if definition.is_none()
            && role_arn.is_none()
            && !present("loggingConfiguration")
            && !present("tracingConfiguration")
            && !present("encryptionConfiguration")
        {
            return Err(ServiceError::missing_required_parameter(
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified",
            ));
        }
        version_description_needs_publish(input)?;
        if let Some(role) = role_arn {
            check_role_arn(role)?;
        }
        let logging = if present("loggingConfiguration") {
            Some(records::logging_configuration(
                input.get("loggingConfiguration"),
            )?)
        } else {
            None
        };
        let tracing = present("tracingConfiguration")
            .then(|| records::tracing_configuration(input.get("tracingConfiguration")));

        let _guard = self.lock();
        let mut sm = self
            .state_machine(arn)?
            .ok_or_else(|| ServiceError::state_machine_does_not_exist(arn))?;
        if let Some(text) = definition {
            check_definition(text, &sm.machine_type)?;
        }
        let mut changed = false;
        if let Some(text) = definition {
            let hash = definition_hash(text);
            if hash != sm.definition_hash {
                self.store.put_definition(&hash, text)?;
                sm.definition_hash = hash;
                changed = true;
            }
        }
        if let Some(role) = role_arn.filter(|r| *r != sm.role_arn) {
            sm.role_arn = role.to_string();
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
        if let Some(e) = input
            .get("encryptionConfiguration")
            .filter(|v| !v.is_null())
        {
            if sm.encryption.as_ref() != Some(e) {
                sm.encryption = Some(e.clone());
                changed = true;
            }
        }
        let updated = self.now();
        if changed {
            sm.revision_id = Some(self.clock().uuid());
            sm.revision_version = None;
            sm.update_ms = updated;
        }
        let mut out = json!({ "updateDate": ts(if changed { updated } else { sm.update_ms }) });
        if let Some(r) = &sm.revision_id {
            out["revisionId"] = json!(r);
        }
        let mut new_version = None;
        if opt_bool(input, "publish") {
            match self.published_version_of_revision(&sm)? {
                Some(existing) => out["stateMachineVersionArn"] = json!(existing),
                None => {
                    self.check_version_quota(&sm)?;
                    let description = opt_str(input, "versionDescription");
                    let (version_arn, v) = self.new_version(&mut sm, description, updated);
                    out["stateMachineVersionArn"] = json!(version_arn);
                    new_version = Some(v);
                }
            }
        }
        self.put_state_machine(&sm)?;
        if let Some(v) = new_version {
            self.store.put_resource(&v)?;
        }
        Ok(out)
    }

    /// The ARN of the version published from the state machine's current revision, if it still
    /// exists.
    pub(super) fn published_version_of_revision(
        &self,
        sm: &StateMachineRecord,
    ) -> Result<Option<String>, ServiceError> {
        let Some(n) = sm.revision_version else {
            return Ok(None);
        };
        let arn = self.arns.version(&sm.name, n);
        Ok(self.version(&arn)?.map(|_| arn))
    }

    pub(super) fn check_version_quota(&self, sm: &StateMachineRecord) -> Result<(), ServiceError> {
        let parent = self.arns.state_machine(&sm.name);
        let versions = self.store.list_resources(
            ResourceKind::Version,
            Some(&parent),
            None,
            super::MAX_VERSIONS,
        )?;
        if versions.len() >= super::MAX_VERSIONS {
            return Err(ServiceError::service_quota_exceeded(format!(
                "Maximum number of versions ({}) reached for state machine: '{parent}'",
                super::MAX_VERSIONS
            )));
        }
        Ok(())
    }

    pub(super) fn put_state_machine(&self, sm: &StateMachineRecord) -> Result<(), ServiceError> {
        let arn = self.arns.state_machine(&sm.name);
        let resource = records::resource(
            &arn,
            ResourceKind::StateMachine,
            None,
            sort_key::by_name(&sm.name),
            records::body(sm)?,
        );
        self.store.put_resource(&resource)?;
        Ok(())
    }

    pub(super) fn delete_state_machine(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = req_str(input, "stateMachineArn")?;
        match arn::expect_state_machine(arn, Accept::UNQUALIFIED) {
            Ok(_) => {}
            Err(Some(e)) => return Err(e),
            Err(None) => {
                return Err(ServiceError::validation(format!(
                    "DeleteStateMachine takes an unqualified state machine ARN; use DeleteStateMachineVersion or DeleteStateMachineAlias for: '{arn}'"
                )));
            }
        }
        let sm_arn = arn;
        let _guard = self.lock();
        // Versions and aliases go with their state machine.
        for kind in [ResourceKind::Alias, ResourceKind::Version] {
            loop {
                let batch = self.store.list_resources(kind, Some(sm_arn), None, 500)?;
                if batch.is_empty() {
                    break;
                }
                for r in &batch {
                    self.store.delete_resource(&r.arn)?;
                }
            }
        }
        self.store.delete_resource(sm_arn)?;
        Ok(json!({}))
    }

    pub(super) fn list_state_machines(&self, input: &Value) -> Result<Value, ServiceError> {
        const LIST: &str = "ListStateMachines";
        let limit = paging::page_size_of(input);
        let after: Option<String> = paging::token_of(input, LIST, "")?;
        let fetched = self.store.list_resources(
            ResourceKind::StateMachine,
            None,
            after.as_deref(),
            limit + 1,
        )?;
        let page = paging::cut_page(fetched, limit, LIST, "", |r| r.sort_key.clone());
        let mut items = Vec::with_capacity(page.items.len());
        for r in &page.items {
            let sm: StateMachineRecord = records::read(r)?;
            items.push(json!({
                "stateMachineArn": r.arn,
                "name": sm.name,
                "type": sm.machine_type,
                "creationDate": ts(sm.creation_ms),
            }));
        }
        let mut out = json!({ "stateMachines": items });
        if let Some(t) = page.next_token {
            out["nextToken"] = json!(t);
        }
        Ok(out)
    }

    pub(super) fn describe_state_machine_for_execution(
        &self,
        input: &Value,
    ) -> Result<Value, ServiceError> {
        let arn = req_str(input, "executionArn")?;
        // AWS does not support this action for Express executions; it refuses their ARNs as it
        // does for DescribeExecution.
        arn::expect_standard_execution(arn)?;
        let record = self
            .store
            .get_execution(arn)?
            .ok_or_else(|| ServiceError::execution_does_not_exist(arn))?;
        let name = stepwise_engine::StateMachineArn::parse(&record.state_machine_arn)
            .map(|m| m.name().to_owned())
            .unwrap_or_default();
        let definition = self.definition(&record.definition_hash)?;
        let version = match &record.version_arn {
            Some(v) => self.version(v)?,
            None => None,
        };
        let sm = self.state_machine(&record.state_machine_arn)?;
        let (update_ms, logging, tracing, revision_id, encryption) = match (&version, &sm) {
            (Some(v), _) => (
                v.creation_ms,
                v.logging.clone(),
                v.tracing.clone(),
                v.revision_id.clone(),
                v.encryption.clone(),
            ),
            (None, Some(s)) => (
                s.update_ms,
                s.logging.clone(),
                s.tracing.clone(),
                // The revision is only known while the state machine still runs it.
                s.revision_id
                    .clone()
                    .filter(|_| s.definition_hash == record.definition_hash),
                s.encryption.clone(),
            ),
            (None, None) => (
                record.start_ms,
                default_logging(),
                default_tracing(),
                None,
                None,
            ),
        };
        let mut out = Map::new();
        out.insert("stateMachineArn".into(), json!(record.state_machine_arn));
        out.insert("name".into(), json!(name));
        out.insert("definition".into(), Value::String(definition));
        out.insert("roleArn".into(), json!(record.role_arn));
        out.insert("updateDate".into(), ts(update_ms));
        out.insert("loggingConfiguration".into(), logging);
        out.insert("tracingConfiguration".into(), tracing);
        if let Some(r) = revision_id {
            out.insert("revisionId".into(), json!(r));
        }
        out.insert(
            "encryptionConfiguration".into(),
            records::encryption_or_default(encryption.as_ref()),
        );
        Ok(Value::Object(out))
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
