//! CreateActivity, DescribeActivity, DeleteActivity and ListActivities.

use serde_json::{Value, json};
use stepwise_store::ResourceKind;

use super::records::{self, ActivityRecord, sort_key, ts};
use super::{Control, MAX_TAGS, req_str};
use crate::arn;
use crate::error::ServiceError;
use crate::paging;

impl Control {
    pub(super) fn create_activity(&self, input: &Value) -> Result<Value, ServiceError> {
        let name = req_str(input, "name")?;
        arn::check_name(name)?;
        let arn = self.arns.activity(name);
        let tags = records::tags_of(input);
        if tags.len() > MAX_TAGS {
            return Err(ServiceError::too_many_tags(&arn, MAX_TAGS));
        }
        let encryption = input
            .get("encryptionConfiguration")
            .filter(|v| !v.is_null())
            .cloned();
        let _guard = self.lock();
        if let Some(existing) = self.record::<ActivityRecord>(&arn, ResourceKind::Activity)? {
            // Idempotent on the name; tags are ignored, but the encryption cannot change.
            let effective = |e: Option<&Value>| records::encryption_or_default(e);
            if encryption.is_some()
                && effective(existing.encryption.as_ref()) != effective(encryption.as_ref())
            {
                return Err(ServiceError::activity_already_exists(&arn));
            }
            return Ok(json!({ "activityArn": arn, "creationDate": ts(existing.creation_ms) }));
        }
        let created = self.now();
        let record = ActivityRecord {
            name: name.to_string(),
            creation_ms: created,
            tags,
            encryption,
        };
        self.store.put_resource(&records::resource(
            &arn,
            ResourceKind::Activity,
            None,
            sort_key::by_name(name),
            records::body(&record)?,
        ))?;
        Ok(json!({ "activityArn": arn, "creationDate": ts(created) }))
    }

    pub(super) fn describe_activity(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = req_str(input, "activityArn")?;
        arn::expect_activity(arn)?;
        let activity = self
            .record::<ActivityRecord>(arn, ResourceKind::Activity)?
            .ok_or_else(|| ServiceError::activity_does_not_exist(arn))?;
        let mut out = json!({
            "activityArn": arn,
            "name": activity.name,
            "creationDate": ts(activity.creation_ms),
        });
        out["encryptionConfiguration"] =
            records::encryption_or_default(activity.encryption.as_ref());
        Ok(out)
    }

    pub(super) fn delete_activity(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = req_str(input, "activityArn")?;
        arn::expect_activity(arn)?;
        let _guard = self.lock();
        if self
            .record::<ActivityRecord>(arn, ResourceKind::Activity)?
            .is_some()
        {
            self.store.delete_resource(arn)?;
        }
        Ok(json!({}))
    }

    pub(super) fn list_activities(&self, input: &Value) -> Result<Value, ServiceError> {
        const LIST: &str = "ListActivities";
        let limit = paging::page_size_of(input);
        let after: Option<String> = paging::token_of(input, LIST, "")?;
        let fetched =
            self.store
                .list_resources(ResourceKind::Activity, None, after.as_deref(), limit + 1)?;
        let page = paging::cut_page(fetched, limit, LIST, "", |r| r.sort_key.clone());
        let mut items = Vec::with_capacity(page.items.len());
        for r in &page.items {
            let a: ActivityRecord = records::read(r)?;
            items.push(json!({
                "activityArn": r.arn,
                "name": a.name,
                "creationDate": ts(a.creation_ms),
            }));
        }
        let mut out = json!({ "activities": items });
        if let Some(t) = page.next_token {
            out["nextToken"] = json!(t);
        }
        Ok(out)
    }
}
