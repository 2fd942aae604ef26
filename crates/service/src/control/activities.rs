//! CreateActivity, DescribeActivity, DeleteActivity and ListActivities.

use stepwise_store::ResourceKind;

use super::records::{self, ActivityRecord, sort_key};
use super::{Control, MAX_TAGS};
use crate::arn;
use crate::error::ServiceError;
use crate::time::seconds;
use crate::types::{
    ActivityListItem, CreateActivityInput, CreateActivityOutput, DeleteActivityInput,
    DeleteActivityOutput, DescribeActivityInput, DescribeActivityOutput, ListActivitiesInput,
    ListActivitiesOutput,
};

impl Control {
    pub async fn create_activity(
        &self,
        input: CreateActivityInput,
    ) -> Result<CreateActivityOutput, ServiceError> {
        let name = input.name;
        arn::check_name(&name)?;
        let arn = self.arns().activity(&name);
        let tags = records::tags_of(input.tags);
        if tags.len() > MAX_TAGS {
            return Err(ServiceError::too_many_tags(&arn, MAX_TAGS));
        }
        let encryption = input.encryption_configuration;
        let _guard = self.lock().await?;
        if let Some(existing) = self
            .record::<ActivityRecord>(&arn, ResourceKind::Activity)
            .await?
        {
            // Idempotent on the name; tags are ignored, but the encryption cannot change.
            if encryption.is_some()
                && records::encryption_or_default(existing.encryption.as_ref())
                    != records::encryption_or_default(encryption.as_ref())
            {
                return Err(ServiceError::activity_already_exists(&arn));
            }
            return Ok(CreateActivityOutput::new(
                arn,
                seconds(existing.creation_ms),
            ));
        }
        let created = self.now();
        let record = ActivityRecord {
            name,
            creation_ms: created,
            tags,
            encryption,
        };
        self.put_activity(&arn, &record).await?;
        Ok(CreateActivityOutput::new(arn, seconds(created)))
    }

    pub(super) async fn put_activity(
        &self,
        arn: &str,
        activity: &ActivityRecord,
    ) -> Result<(), ServiceError> {
        self.store
            .put_resource(&records::resource(
                arn,
                ResourceKind::Activity,
                self.account_scope().as_deref(),
                sort_key::by_name(&activity.name),
                records::body(activity)?,
            ))
            .await?;
        Ok(())
    }

    pub async fn describe_activity(
        &self,
        input: DescribeActivityInput,
    ) -> Result<DescribeActivityOutput, ServiceError> {
        let arn = input.activity_arn;
        arn::expect_activity(&arn)?;
        let activity = self
            .record::<ActivityRecord>(&arn, ResourceKind::Activity)
            .await?
            .ok_or_else(|| ServiceError::activity_does_not_exist(&arn))?;
        let encryption = records::encryption_or_default(activity.encryption.as_ref());
        Ok(
            DescribeActivityOutput::new(arn, activity.name, seconds(activity.creation_ms))
                .encryption_configuration(encryption),
        )
    }

    pub async fn delete_activity(
        &self,
        input: DeleteActivityInput,
    ) -> Result<DeleteActivityOutput, ServiceError> {
        let arn = input.activity_arn;
        arn::expect_activity(&arn)?;
        let _guard = self.lock().await?;
        if self
            .record::<ActivityRecord>(&arn, ResourceKind::Activity)
            .await?
            .is_some()
        {
            self.store.delete_resource(&arn).await?;
        }
        Ok(DeleteActivityOutput::new())
    }

    pub async fn list_activities(
        &self,
        input: ListActivitiesInput,
    ) -> Result<ListActivitiesOutput, ServiceError> {
        let (activities, next_token) = self
            .list_page(
                "ListActivities",
                ResourceKind::Activity,
                self.account_scope().as_deref(),
                (input.max_results, input.next_token.as_deref()),
                |arn, a: ActivityRecord| ActivityListItem::new(arn, a.name, seconds(a.creation_ms)),
            )
            .await?;
        Ok(ListActivitiesOutput {
            activities,
            next_token,
        })
    }
}
