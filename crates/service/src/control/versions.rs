//! PublishStateMachineVersion, ListStateMachineVersions and DeleteStateMachineVersion.

use stepwise_store::ResourceKind;

use super::Control;
use super::records::{self, AliasRecord, VersionRecord};
use crate::arn::{self, Accept, Arns, StateMachineRef};
use crate::error::ServiceError;
use crate::time::seconds;
use crate::types::{
    DeleteStateMachineVersionInput, DeleteStateMachineVersionOutput, ListStateMachineVersionsInput,
    ListStateMachineVersionsOutput, PublishStateMachineVersionInput,
    PublishStateMachineVersionOutput, StateMachineVersionListItem,
};

impl Control {
    pub async fn publish_state_machine_version(
        &self,
        input: PublishStateMachineVersionInput,
    ) -> Result<PublishStateMachineVersionOutput, ServiceError> {
        let arn = input.state_machine_arn;
        match arn::expect_state_machine(&arn, Accept::UNQUALIFIED) {
            Ok(_) => {}
            Err(Some(e)) => return Err(e),
            Err(None) => return Err(ServiceError::state_machine_does_not_exist(&arn)),
        }
        let _guard = self.lock().await?;
        let mut sm = self
            .state_machine(&arn)
            .await?
            .ok_or_else(|| ServiceError::state_machine_does_not_exist(&arn))?;
        if let Some(expected) = input.revision_id {
            if sm.revision_id.as_ref() != Some(&expected) {
                return Err(ServiceError::conflict(format!(
                    "Failed to publish the State Machine version for revision {expected}. The current State Machine revision is {}.",
                    sm.revision_id.as_deref().unwrap_or("null")
                )));
            }
        }
        if let Some(existing) = self.published_version_of_revision(&sm).await? {
            let v = self
                .version(&existing)
                .await?
                .ok_or_else(|| ServiceError::state_machine_does_not_exist(&existing))?;
            return Ok(PublishStateMachineVersionOutput::new(
                seconds(v.creation_ms),
                existing,
            ));
        }
        self.check_version_quota(&sm).await?;
        let created = self.now();
        let (version_arn, version) = self
            .new_version(&mut sm, input.description.as_deref(), created)
            .await;
        self.put_state_machine(&sm).await?;
        self.store.put_resource(&version).await?;
        Ok(PublishStateMachineVersionOutput::new(
            seconds(created),
            version_arn,
        ))
    }

    pub async fn list_state_machine_versions(
        &self,
        input: ListStateMachineVersionsInput,
    ) -> Result<ListStateMachineVersionsOutput, ServiceError> {
        let arn = input.state_machine_arn;
        match arn::expect_state_machine(&arn, Accept::UNQUALIFIED) {
            Ok(_) => {}
            Err(Some(e)) => return Err(e),
            Err(None) => {
                return Err(ServiceError::invalid_arn(format_args!(
                    "Resource type not valid in this context: {arn}"
                )));
            }
        }
        // The action declares no StateMachineDoesNotExist: AWS answers InvalidArn.
        if self.state_machine(&arn).await?.is_none() {
            return Err(ServiceError::invalid_arn(&arn));
        }
        let (state_machine_versions, next_token) = self
            .list_page(
                "ListStateMachineVersions",
                ResourceKind::Version,
                Some(&arn),
                (input.max_results, input.next_token.as_deref()),
                |arn, v: VersionRecord| {
                    StateMachineVersionListItem::new(arn, seconds(v.creation_ms))
                },
            )
            .await?;
        Ok(ListStateMachineVersionsOutput {
            state_machine_versions,
            next_token,
        })
    }

    pub async fn delete_state_machine_version(
        &self,
        input: DeleteStateMachineVersionInput,
    ) -> Result<DeleteStateMachineVersionOutput, ServiceError> {
        let arn = &*input.state_machine_version_arn;
        match arn::expect_state_machine(arn, Accept::ANY) {
            Ok(StateMachineRef::Version { .. }) => {}
            Ok(_) | Err(None) => {
                return Err(ServiceError::invalid_arn(format_args!(
                    "Not a state machine version ARN: {arn}"
                )));
            }
            Err(Some(e)) => return Err(e),
        }
        let _guard = self.lock().await?;
        if self.version(arn).await?.is_none() {
            return Ok(DeleteStateMachineVersionOutput::new());
        }
        let sm_arn = Arns::unqualified(arn);
        let referencing: Vec<String> = self
            .aliases_of(&sm_arn)
            .await?
            .into_iter()
            .filter(|a| a.routing.iter().any(|r| r.state_machine_version_arn == arn))
            .map(|a| a.name)
            .collect();
        if !referencing.is_empty() {
            return Err(ServiceError::conflict(format!(
                "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{}]",
                referencing.join(", ")
            )));
        }
        self.store.delete_resource(arn).await?;
        if let Some(mut sm) = self.state_machine(&sm_arn).await? {
            if sm
                .revision_version
                .is_some_and(|n| self.arns().version(&sm.name, n) == arn)
            {
                sm.revision_version = None;
                self.put_state_machine(&sm).await?;
            }
        }
        Ok(DeleteStateMachineVersionOutput::new())
    }

    /// Every alias of a state machine, in creation order (at most [`super::MAX_ALIASES`]).
    pub(super) async fn aliases_of(&self, sm_arn: &str) -> Result<Vec<AliasRecord>, ServiceError> {
        let resources = self
            .store
            .list_resources(
                ResourceKind::Alias,
                Some(sm_arn),
                None,
                super::MAX_ALIASES * 2,
            )
            .await?;
        resources.iter().map(records::read).collect()
    }
}
