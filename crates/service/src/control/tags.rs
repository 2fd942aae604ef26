//! TagResource, UntagResource and ListTagsForResource: tags of state machines and activities.

use stepwise_store::ResourceKind;

use super::records::{self, ActivityRecord, StateMachineRecord, Tag};
use super::{Control, MAX_TAGS};
use crate::arn::{self, Resource};
use crate::error::ServiceError;
use crate::types::{
    ListTagsForResourceInput, ListTagsForResourceOutput, TagResourceInput, TagResourceOutput,
    UntagResourceInput, UntagResourceOutput,
};

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
    async fn tagged(&self, arn: &str) -> Result<Tagged, ServiceError> {
        let not_found = || ServiceError::resource_not_found(arn);
        match arn::parse(arn)?.resource {
            Resource::StateMachine { .. } => self
                .state_machine(arn)
                .await?
                .map(|sm| Tagged::StateMachine(Box::new(sm)))
                .ok_or_else(not_found),
            Resource::Activity { .. } => self
                .record::<ActivityRecord>(arn, ResourceKind::Activity)
                .await?
                .map(Tagged::Activity)
                .ok_or_else(not_found),
            Resource::Version { .. } | Resource::Alias { .. } => Err(not_found()),
            other => Err(ServiceError::invalid_arn(format_args!(
                "Resource type not valid in this context: {}",
                other.type_name()
            ))),
        }
    }

    async fn put_tagged(&self, arn: &str, tagged: &Tagged) -> Result<(), ServiceError> {
        match tagged {
            Tagged::StateMachine(sm) => self.put_state_machine(sm).await,
            Tagged::Activity(a) => self.put_activity(arn, a).await,
        }
    }

    pub async fn tag_resource(
        &self,
        input: TagResourceInput,
    ) -> Result<TagResourceOutput, ServiceError> {
        let arn = input.resource_arn;
        let new = records::tags_of(Some(input.tags));
        let _guard = self.lock().await?;
        let mut tagged = self.tagged(&arn).await?;
        let mut tags = tagged.tags().clone();
        records::merge_tags(&mut tags, &new);
        if tags.len() > MAX_TAGS {
            return Err(ServiceError::too_many_tags(&arn, MAX_TAGS));
        }
        *tagged.tags_mut() = tags;
        self.put_tagged(&arn, &tagged).await?;
        Ok(TagResourceOutput::new())
    }

    pub async fn untag_resource(
        &self,
        input: UntagResourceInput,
    ) -> Result<UntagResourceOutput, ServiceError> {
        let arn = input.resource_arn;
        let keys = input.tag_keys;
        let _guard = self.lock().await?;
        let mut tagged = self.tagged(&arn).await?;
        tagged.tags_mut().retain(|t| !keys.contains(&t.key));
        self.put_tagged(&arn, &tagged).await?;
        Ok(UntagResourceOutput::new())
    }

    pub async fn list_tags_for_resource(
        &self,
        input: ListTagsForResourceInput,
    ) -> Result<ListTagsForResourceOutput, ServiceError> {
        let tagged = self.tagged(&input.resource_arn).await?;
        Ok(ListTagsForResourceOutput::default()
            .tags(tagged.tags().iter().map(Into::into).collect::<Vec<_>>()))
    }
}
