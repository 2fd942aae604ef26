//! Activities and tags through the router.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, ROLE, pass};
use serde_json::{Value, json};

#[tokio::test]
async fn activity_lifecycle() {
    let h = Harness::new();
    let created = h.ok("CreateActivity", json!({"name": "worker"})).await;
    let arn = "arn:aws:states:us-east-1:123456789012:activity:worker";
    assert_eq!(created["activityArn"], arn);
    assert!(created["creationDate"].is_number());
    // Idempotent on the name; tags of a repeat are ignored (API reference, recorded).
    let again = h
        .ok(
            "CreateActivity",
            json!({"name": "worker", "tags": [{"key": "k", "value": "v"}]}),
        )
        .await;
    assert_eq!(again, created);
    let d = h.ok("DescribeActivity", json!({"activityArn": arn})).await;
    assert_eq!(
        d,
        json!({"activityArn": arn, "name": "worker", "creationDate": created["creationDate"],
               "encryptionConfiguration": {"type": "AWS_OWNED_KEY"}})
    );
    h.ok("DeleteActivity", json!({"activityArn": arn})).await;
    h.ok("DeleteActivity", json!({"activityArn": arn})).await;
    let (code, message, _) = h.err("DescribeActivity", json!({"activityArn": arn})).await;
    assert_eq!(code, "ActivityDoesNotExist");
    assert_eq!(message, format!("Activity Does Not Exist: '{arn}'"));
}

#[tokio::test]
async fn activity_errors() {
    let h = Harness::new();
    let (code, message, _) = h
        .err(
            "CreateActivity",
            json!({"name": "TestActivity InvalidName$"}),
        )
        .await;
    assert_eq!(code, "InvalidName");
    assert_eq!(message, "Invalid Name: 'TestActivity InvalidName$'");
    let (code, _, _) = h
        .err(
            "DescribeActivity",
            json!({"activityArn": h.arns().state_machine("x")}),
        )
        .await;
    assert_eq!(code, "InvalidArn");
    let (code, _, _) = h
        .err("DeleteActivity", json!({"activityArn": "nope"}))
        .await;
    assert_eq!(code, "InvalidArn");
    let encrypted = json!({"name": "enc", "encryptionConfiguration": {"type": "AWS_OWNED_KEY"}});
    h.ok("CreateActivity", encrypted.clone()).await;
    // Asking for the default again is the same activity.
    h.ok("CreateActivity", encrypted).await;
    let (code, _, _) = h
        .err(
            "CreateActivity",
            json!({"name": "enc", "encryptionConfiguration": {"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": "k"}}),
        )
        .await;
    assert_eq!(code, "ActivityAlreadyExists");
}

#[tokio::test]
async fn listing_activities_pages_by_name() {
    let h = Harness::new();
    for i in (0..23).rev() {
        h.ok("CreateActivity", json!({"name": format!("act-{i:02}")}))
            .await;
    }
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"maxResults": 10});
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let page = h.ok("ListActivities", body).await;
        for a in page["activities"].as_array().unwrap() {
            assert!(a["creationDate"].is_number());
            assert_eq!(
                a["activityArn"],
                h.arns().activity(a["name"].as_str().unwrap())
            );
            names.push(a["name"].as_str().unwrap().to_string());
        }
        match page.get("nextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..23).map(|i| format!("act-{i:02}")).collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn tags_on_state_machines_and_activities() {
    let h = Harness::new();
    let sm = h
        .ok(
            "CreateStateMachine",
            json!({"name": "sm", "definition": pass("x"), "roleArn": ROLE,
                   "tags": [{"key": "team", "value": "a"}]}),
        )
        .await["stateMachineArn"]
        .clone();
    let activity = h.ok("CreateActivity", json!({"name": "act"})).await["activityArn"].clone();
    for arn in [&sm, &activity] {
        h.ok(
            "TagResource",
            json!({"resourceArn": arn, "tags": [{"key": "key1", "value": "value1"}, {"key": "key2", "value": ""}]}),
        )
        .await;
        h.ok(
            "TagResource",
            json!({"resourceArn": arn, "tags": [{"key": "key1", "value": "changed"}]}),
        )
        .await;
        h.ok(
            "UntagResource",
            json!({"resourceArn": arn, "tagKeys": ["key2", "absent"]}),
        )
        .await;
    }
    assert_eq!(
        h.ok("ListTagsForResource", json!({"resourceArn": sm}))
            .await,
        json!({"tags": [{"key": "team", "value": "a"}, {"key": "key1", "value": "changed"}]})
    );
    assert_eq!(
        h.ok("ListTagsForResource", json!({"resourceArn": activity}))
            .await,
        json!({"tags": [{"key": "key1", "value": "changed"}]})
    );
    // Tagging keeps the state machine otherwise unchanged.
    let d = h
        .ok("DescribeStateMachine", json!({"stateMachineArn": sm}))
        .await;
    assert_eq!(d["definition"], pass("x"));
    assert!(d.get("revisionId").is_none());
}

#[tokio::test]
async fn tag_limits_and_missing_resources() {
    let h = Harness::new();
    let sm = h.create("sm", &pass("x")).await["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_string();
    let fifty: Vec<Value> = (0..50)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    h.ok("TagResource", json!({"resourceArn": sm, "tags": fifty}))
        .await;
    // Re-tagging an existing key does not count as a new tag.
    h.ok(
        "TagResource",
        json!({"resourceArn": sm, "tags": [{"key": "k0", "value": "w"}]}),
    )
    .await;
    let (code, _, body) = h
        .err(
            "TagResource",
            json!({"resourceArn": sm, "tags": [{"key": "one-more", "value": "v"}]}),
        )
        .await;
    assert_eq!(code, "TooManyTags");
    assert_eq!(body["resourceName"], sm.as_str());
    let too_many: Vec<Value> = (0..51)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    let (code, _, _) = h
        .err(
            "CreateStateMachine",
            json!({"name": "other", "definition": pass("x"), "roleArn": ROLE, "tags": too_many}),
        )
        .await;
    assert_eq!(code, "TooManyTags");
    let (code, _, _) = h
        .err("CreateActivity", json!({"name": "act", "tags": too_many}))
        .await;
    assert_eq!(code, "TooManyTags");

    // Versions carry no tags (recorded: ResourceNotFound with AWS's wording).
    let v1 = h
        .ok("PublishStateMachineVersion", json!({"stateMachineArn": sm}))
        .await["stateMachineVersionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, message, body) = h
        .err(
            "TagResource",
            json!({"resourceArn": v1, "tags": [{"key": "k", "value": "v"}]}),
        )
        .await;
    assert_eq!(code, "ResourceNotFound");
    assert_eq!(message, format!("Resource not found: '{v1}'"));
    assert_eq!(body["resourceName"], v1.as_str());
    let ghost = h.arns().state_machine("ghost");
    let (code, _, _) = h
        .err("ListTagsForResource", json!({"resourceArn": ghost}))
        .await;
    assert_eq!(code, "ResourceNotFound");
    let (code, _, _) = h
        .err(
            "ListTagsForResource",
            json!({"resourceArn": h.arns().execution("sm", "e")}),
        )
        .await;
    assert_eq!(code, "InvalidArn");
    let (code, _, _) = h
        .err(
            "UntagResource",
            json!({"resourceArn": "not-an-arn", "tagKeys": []}),
        )
        .await;
    assert_eq!(code, "InvalidArn");
}
