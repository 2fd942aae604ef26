//! TagResource, UntagResource and ListTagsForResource: tags of state machines and activities.

use serde_json::{Value, json};
use stepwise_store::ResourceKind;

use super::records::{self, ActivityRecord, StateMachineRecord, Tag};
use super::{Control, MAX_TAGS, req_str};
use crate::arn::{self, Resource};
use crate::error::ServiceError;

/// A resource that can carry tags.
enum Tagged {
    StateMachine(Box<StateMachineRecord>),
    Activity(ActivityRecord),
}

impl Tagged {
    fn tags(&self) -> &Vec<Tag> {
        match self {
            Tagged::StateMachine(sm) => &sm.tags,
            Tagged::Activity(a) => &a.tags,
        }
    }

    fn tags_mut(&mut self) -> &mut Vec<Tag> {
        match self {
            Tagged::StateMachine(sm) => &mut sm.tags,
            Tagged::Activity(a) => &mut a.tags,
        }
    }
}

impl Control {
    /// The tagged resource an ARN names: state machines and activities. Versions and aliases
    /// carry no tags of their own (AWS: ResourceNotFound); other ARNs are not resources.
    fn tagged(&self, arn: &str) -> Result<Tagged, ServiceError> {
        let not_found = || ServiceError::resource_not_found(arn);
        match arn::parse(arn)?.resource {
            Resource::StateMachine { .. } => self
                .state_machine(arn)?
                .map(|sm| Tagged::StateMachine(Box::new(sm)))
                .ok_or_else(not_found),
            Resource::Activity { .. } => self
                .record::<ActivityRecord>(arn, ResourceKind::Activity)?
                .map(Tagged::Activity)
                .ok_or_else(not_found),
            Resource::Version { .. } | Resource::Alias { .. } => Err(not_found()),
            other => Err(ServiceError::invalid_arn(format_args!(
                "Resource type not valid in this context: {}",
                other.type_name()
            ))),
        }
    }

    fn put_tagged(&self, arn: &str, tagged: &Tagged) -> Result<(), ServiceError> {
        match tagged {
            Tagged::StateMachine(sm) => self.put_state_machine(sm),
            Tagged::Activity(a) => {
                self.store.put_resource(&records::resource(
                    arn,
                    ResourceKind::Activity,
                    None,
                    records::sort_key::by_name(&a.name),
                    records::body(a)?,
                ))?;
                Ok(())
            }
        }
    }

    pub(super) fn tag_resource(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = req_str(input, "resourceArn")?;
        let new = records::tags_of(input);
        let _guard = self.lock();
        let mut tagged = self.tagged(arn)?;
        let mut tags = tagged.tags().clone();
        records::merge_tags(&mut tags, &new);
        if tags.len() > MAX_TAGS {
            return Err(ServiceError::too_many_tags(arn, MAX_TAGS));
        }
        *tagged.tags_mut() = tags;
        self.put_tagged(arn, &tagged)?;
        Ok(json!({}))
    }

    pub(super) fn untag_resource(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = req_str(input, "resourceArn")?;
        let keys: Vec<&str> = input
            .get("tagKeys")
            .and_then(Value::as_array)
            .map(|k| k.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let _guard = self.lock();
        let mut tagged = self.tagged(arn)?;
        tagged
            .tags_mut()
            .retain(|t| !keys.contains(&t.key.as_str()));
        self.put_tagged(arn, &tagged)?;
        Ok(json!({}))
    }

    pub(super) fn list_tags_for_resource(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = req_str(input, "resourceArn")?;
        let tagged = self.tagged(arn)?;
        Ok(json!({ "tags": records::tags_json(tagged.tags()) }))
    }
}
