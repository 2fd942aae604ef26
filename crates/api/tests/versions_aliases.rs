//! Versions and aliases through the router: publishing (on create, on update, on its own),
//! idempotency per revision, numbering, describing and deleting versions; aliases with their
//! routing rules; and what StartExecution resolves them to.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, ROLE, pass};
use serde_json::{Value, json};

async fn published(h: &Harness, name: &str) -> (String, String) {
    let created = h
        .ok(
            "CreateStateMachine",
            json!({"name": name, "definition": pass("v1"), "roleArn": ROLE, "publish": true,
                   "versionDescription": "first"}),
        )
        .await;
    (
        created["stateMachineArn"].as_str().unwrap().to_string(),
        created["stateMachineVersionArn"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

async fn versions(h: &Harness, sm: &str) -> Vec<String> {
    h.ok("ListStateMachineVersions", json!({"stateMachineArn": sm}))
        .await["stateMachineVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["stateMachineVersionArn"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn create_with_publish_makes_version_1() {
    let h = Harness::new();
    let (sm, v1) = published(&h, "sm").await;
    assert_eq!(v1, format!("{sm}:1"));
    let d = h
        .ok("DescribeStateMachine", json!({"stateMachineArn": v1}))
        .await;
    assert_eq!(d["stateMachineArn"], v1.as_str());
    assert_eq!(d["name"], "sm");
    assert_eq!(d["description"], "first");
    assert_eq!(d["definition"], pass("v1"));
    assert_eq!(d["status"], "ACTIVE");
    assert!(d.get("revisionId").is_none());
    // The state machine itself has no description.
    let d = h
        .ok("DescribeStateMachine", json!({"stateMachineArn": sm}))
        .await;
    assert!(d.get("description").is_none());
}

#[tokio::test]
async fn publishing_is_idempotent_per_revision_and_numbers_are_never_reused() {
    let h = Harness::new();
    let sm = h.create("sm", &pass("r0")).await["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_string();
    let p1 = h
        .ok("PublishStateMachineVersion", json!({"stateMachineArn": sm}))
        .await;
    assert_eq!(p1["stateMachineVersionArn"], format!("{sm}:1"));
    let again = h
        .ok("PublishStateMachineVersion", json!({"stateMachineArn": sm}))
        .await;
    assert_eq!(again, p1);

    let u = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": sm, "definition": pass("r1")}),
        )
        .await;
    let revision = u["revisionId"].as_str().unwrap().to_string();
    let p2 = h
        .ok(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": sm, "revisionId": revision, "description": "second"}),
        )
        .await;
    assert_eq!(p2["stateMachineVersionArn"], format!("{sm}:2"));
    let d2 = h
        .ok(
            "DescribeStateMachine",
            json!({"stateMachineArn": format!("{sm}:2")}),
        )
        .await;
    assert_eq!(d2["revisionId"], revision.as_str());
    assert_eq!(d2["description"], "second");
    assert_eq!(d2["definition"], pass("r1"));
    assert_eq!(
        versions(&h, &sm).await,
        [format!("{sm}:2"), format!("{sm}:1")]
    );

    // A stale revision is a conflict (recorded wording, HTTP 409).
    let u3 = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": sm, "definition": pass("r2")}),
        )
        .await;
    let (status, out) = h
        .call(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": sm, "revisionId": revision}),
        )
        .await;
    assert_eq!(status.as_u16(), 409);
    assert_eq!(out["__type"], "ConflictException");
    assert_eq!(
        out["message"],
        format!(
            "Failed to publish the State Machine version for revision {revision}. The current State Machine revision is {}.",
            u3["revisionId"].as_str().unwrap()
        )
    );

    // Deleted numbers are not handed out again.
    h.ok(
        "DeleteStateMachineVersion",
        json!({"stateMachineVersionArn": format!("{sm}:2")}),
    )
    .await;
    let p3 = h
        .ok("PublishStateMachineVersion", json!({"stateMachineArn": sm}))
        .await;
    assert_eq!(p3["stateMachineVersionArn"], format!("{sm}:3"));
    assert_eq!(
        versions(&h, &sm).await,
        [format!("{sm}:3"), format!("{sm}:1")]
    );
    // Deleting a version twice is fine (recorded).
    h.ok(
        "DeleteStateMachineVersion",
        json!({"stateMachineVersionArn": format!("{sm}:2")}),
    )
    .await;
}

#[tokio::test]
async fn update_with_publish() {
    let h = Harness::new();
    let sm = h.create("sm", &pass("r0")).await["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_string();
    // Nothing changed and nothing published yet: version 1 of the current revision, no revision id
    // (recorded).
    let u = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": sm, "definition": pass("r0"), "publish": true}),
        )
        .await;
    assert_eq!(u["stateMachineVersionArn"], format!("{sm}:1"));
    assert!(u.get("revisionId").is_none());
    let again = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": sm, "definition": pass("r0"), "publish": true}),
        )
        .await;
    assert_eq!(again["stateMachineVersionArn"], format!("{sm}:1"));
    let changed = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": sm, "definition": pass("r1"), "publish": true, "versionDescription": "d"}),
        )
        .await;
    assert_eq!(changed["stateMachineVersionArn"], format!("{sm}:2"));
    assert!(changed["revisionId"].is_string());
    let (code, message, _) = h
        .err(
            "UpdateStateMachine",
            json!({"stateMachineArn": sm, "definition": pass("r2"), "versionDescription": "d"}),
        )
        .await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Version description can only be set when publish is true"
    );
}

#[tokio::test]
async fn version_errors() {
    let h = Harness::new();
    let ghost = h.arns().state_machine("ghost");
    let (code, message, _) = h
        .err(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": ghost}),
        )
        .await;
    assert_eq!(code, "StateMachineDoesNotExist");
    assert_eq!(message, format!("State Machine Does Not Exist: '{ghost}'"));
    let (code, _, _) = h
        .err(
            "ListStateMachineVersions",
            json!({"stateMachineArn": ghost}),
        )
        .await;
    assert_eq!(code, "InvalidArn");
    let (code, _, _) = h
        .err(
            "DescribeStateMachine",
            json!({"stateMachineArn": format!("{ghost}:7")}),
        )
        .await;
    assert_eq!(code, "StateMachineDoesNotExist");
    let (code, _, _) = h
        .err(
            "DeleteStateMachineVersion",
            json!({"stateMachineVersionArn": ghost}),
        )
        .await;
    assert_eq!(code, "InvalidArn");
}

#[tokio::test]
async fn listing_versions_pages_newest_first() {
    let h = Harness::new();
    let sm = h.create("sm", &pass("0")).await["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 1..=12 {
        h.ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": sm, "definition": pass(&i.to_string()), "publish": true}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"stateMachineArn": sm, "maxResults": 5});
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let page = h.ok("ListStateMachineVersions", body).await;
        for v in page["stateMachineVersions"].as_array().unwrap() {
            assert!(v["creationDate"].is_number());
            seen.push(v["stateMachineVersionArn"].as_str().unwrap().to_string());
        }
        match page.get("nextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (1..=12).rev().map(|n| format!("{sm}:{n}")).collect();
    assert_eq!(seen, expected);
    // A token for one state machine is no good for another.
    let other = h.create("other", &pass("0")).await["stateMachineArn"].clone();
    let page = h
        .ok(
            "ListStateMachineVersions",
            json!({"stateMachineArn": sm, "maxResults": 1}),
        )
        .await;
    let (code, _, _) = h
        .err(
            "ListStateMachineVersions",
            json!({"stateMachineArn": other, "nextToken": page["nextToken"]}),
        )
        .await;
    assert_eq!(code, "InvalidToken");
}

fn route(version: &str, weight: u64) -> Value {
    json!({"stateMachineVersionArn": version, "weight": weight})
}

#[tokio::test]
async fn alias_lifecycle() {
    let h = Harness::new();
    let (sm, v1) = published(&h, "sm").await;
    let v2 = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": sm, "definition": pass("v2"), "publish": true}),
        )
        .await["stateMachineVersionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let created = h
        .ok(
            "CreateStateMachineAlias",
            json!({"name": "live", "description": "d", "routingConfiguration": [route(&v1, 100)]}),
        )
        .await;
    let alias = format!("{sm}:live");
    assert_eq!(created["stateMachineAliasArn"], alias.as_str());
    // Idempotent with the same configuration, a conflict with another (recorded wording).
    let again = h
        .ok(
            "CreateStateMachineAlias",
            json!({"name": "live", "description": "d", "routingConfiguration": [route(&v1, 100)]}),
        )
        .await;
    assert_eq!(again, created);
    for different in [
        json!({"name": "live", "description": "other", "routingConfiguration": [route(&v1, 100)]}),
        json!({"name": "live", "description": "d", "routingConfiguration": [route(&v2, 100)]}),
    ] {
        let (status, out) = h.call("CreateStateMachineAlias", different).await;
        assert_eq!(status.as_u16(), 409);
        assert_eq!(out["__type"], "ConflictException");
        assert_eq!(
            out["message"],
            "Failed to create alias because an alias with the same name and a different routing configuration already exists."
        );
    }
    let d = h
        .ok(
            "DescribeStateMachineAlias",
            json!({"stateMachineAliasArn": alias}),
        )
        .await;
    assert_eq!(d["name"], "live");
    assert_eq!(d["description"], "d");
    assert_eq!(d["routingConfiguration"], json!([route(&v1, 100)]));
    assert_eq!(d["creationDate"], created["creationDate"]);
    assert!(d["updateDate"].is_number());

    h.ok(
        "UpdateStateMachineAlias",
        json!({"stateMachineAliasArn": alias, "routingConfiguration": [route(&v1, 50), route(&v2, 50)]}),
    )
    .await;
    let d = h
        .ok(
            "DescribeStateMachineAlias",
            json!({"stateMachineAliasArn": alias}),
        )
        .await;
    assert_eq!(
        d["routingConfiguration"],
        json!([route(&v1, 50), route(&v2, 50)])
    );
    assert_eq!(d["description"], "d");

    // A version an alias routes to cannot go (recorded wording).
    let (status, out) = h
        .call(
            "DeleteStateMachineVersion",
            json!({"stateMachineVersionArn": v1}),
        )
        .await;
    assert_eq!(status.as_u16(), 409);
    assert_eq!(
        out["message"],
        "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [live]"
    );

    // Listing, also by version.
    h.ok(
        "CreateStateMachineAlias",
        json!({"name": "canary", "routingConfiguration": [route(&v2, 100)]}),
    )
    .await;
    let all = h
        .ok("ListStateMachineAliases", json!({"stateMachineArn": sm}))
        .await;
    let arns: Vec<&str> = all["stateMachineAliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["stateMachineAliasArn"].as_str().unwrap())
        .collect();
    assert_eq!(arns, [alias.clone(), format!("{sm}:canary")]);
    let of_v1 = h
        .ok("ListStateMachineAliases", json!({"stateMachineArn": v1}))
        .await;
    assert_eq!(of_v1["stateMachineAliases"].as_array().unwrap().len(), 1);
    assert_eq!(
        of_v1["stateMachineAliases"][0]["stateMachineAliasArn"],
        alias.as_str()
    );

    h.ok(
        "DeleteStateMachineAlias",
        json!({"stateMachineAliasArn": alias}),
    )
    .await;
    // Twice is fine (recorded).
    h.ok(
        "DeleteStateMachineAlias",
        json!({"stateMachineAliasArn": alias}),
    )
    .await;
    let (code, message, body) = h
        .err(
            "UpdateStateMachineAlias",
            json!({"stateMachineAliasArn": alias, "description": "x"}),
        )
        .await;
    assert_eq!(code, "ResourceNotFound");
    assert_eq!(
        message,
        "Request references a resource that does not exist."
    );
    assert_eq!(body["resourceName"], alias.as_str());
    h.ok(
        "DeleteStateMachineVersion",
        json!({"stateMachineVersionArn": v1}),
    )
    .await;
}

#[tokio::test]
async fn routing_configurations_are_checked_as_aws_does() {
    let h = Harness::new();
    let (sm, v1) = published(&h, "sm").await;
    let v2 = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": sm, "definition": pass("v2"), "publish": true}),
        )
        .await["stateMachineVersionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let cases = [
        (
            json!([route(&sm, 100)]),
            format!(
                "Routing configuration must contain state machine version ARNs. Received: [{sm}]"
            ),
        ),
        (
            json!([route(&sm, 50), route(&v2, 50)]),
            format!(
                "Routing configuration must contain state machine version ARNs. Received: [{sm}, {v2}]"
            ),
        ),
        (
            json!([route(&v1, 50), route(&v1, 50)]),
            format!(
                "Routing configuration must contain distinct state machine version ARNs. Received: [{v1}, {v1}]"
            ),
        ),
        (
            json!([route(&v1, 70), route(&v2, 29)]),
            "Sum of routing configuration weights must equal 100. Received: [70, 29]".to_string(),
        ),
        (
            json!([route(&v1, 70), route(&v2, 31)]),
            "Sum of routing configuration weights must equal 100. Received: [70, 31]".to_string(),
        ),
    ];
    for (routing, expected) in cases {
        let (code, message, body) = h
            .err(
                "CreateStateMachineAlias",
                json!({"name": "a", "routingConfiguration": routing}),
            )
            .await;
        assert_eq!(code, "ValidationException");
        assert_eq!(message, expected);
        assert_eq!(body["reason"], "INVALID_ROUTING_CONFIGURATION");
    }
    let (code, message, _) = h
        .err(
            "CreateStateMachineAlias",
            json!({"name": "a", "routingConfiguration": [route(&v1, 101)]}),
        )
        .await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' failed to satisfy constraint: Member must have value less than or equal to 100"
    );
    let (code, message, _) = h
        .err(
            "CreateStateMachineAlias",
            json!({"name": "123", "routingConfiguration": [route(&v1, 100)]}),
        )
        .await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        r"1 validation error detected: Value '123' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$"
    );
    let missing = format!("{sm}:9");
    let (code, _, body) = h
        .err(
            "CreateStateMachineAlias",
            json!({"name": "a", "routingConfiguration": [route(&missing, 100)]}),
        )
        .await;
    assert_eq!(code, "ResourceNotFound");
    assert_eq!(body["resourceName"], missing.as_str());
    // Versions of two state machines cannot share an alias.
    let (_, other_v1) = published(&h, "other").await;
    let (code, _, _) = h
        .err(
            "CreateStateMachineAlias",
            json!({"name": "a", "routingConfiguration": [route(&v1, 50), route(&other_v1, 50)]}),
        )
        .await;
    assert_eq!(code, "ValidationException");
    let (code, _, body) = h
        .err(
            "UpdateStateMachineAlias",
            json!({"stateMachineAliasArn": format!("{sm}:live")}),
        )
        .await;
    assert_eq!(code, "ValidationException");
    assert_eq!(body["reason"], "MISSING_REQUIRED_PARAMETER");
}

#[tokio::test]
async fn start_targets_follow_versions_and_alias_weights() {
    let h = Harness::new();
    let (sm, v1) = published(&h, "sm").await;
    let v2 = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": sm, "definition": pass("v2"), "publish": true}),
        )
        .await["stateMachineVersionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let alias = h
        .ok(
            "CreateStateMachineAlias",
            json!({"name": "split", "routingConfiguration": [route(&v1, 25), route(&v2, 75)]}),
        )
        .await["stateMachineAliasArn"]
        .as_str()
        .unwrap()
        .to_string();
    let control = h.api.service.control();

    let latest = control.resolve_for_start(&sm, 0.0).await.unwrap();
    assert_eq!(latest.state_machine_arn, sm);
    assert_eq!(latest.state_machine_name, "sm");
    assert_eq!(latest.definition, pass("v2"));
    assert_eq!(latest.version_arn, None);
    assert_eq!(latest.alias_arn, None);
    assert!(!latest.express);
    assert_eq!(latest.role_arn, ROLE);

    let first = control.resolve_for_start(&v1, 0.9).await.unwrap();
    assert_eq!(first.state_machine_arn, sm);
    assert_eq!(first.version_arn.as_deref(), Some(v1.as_str()));
    assert_eq!(first.definition, pass("v1"));

    let low = control.resolve_for_start(&alias, 0.1).await.unwrap();
    assert_eq!(low.version_arn.as_deref(), Some(v1.as_str()));
    assert_eq!(low.alias_arn.as_deref(), Some(alias.as_str()));
    assert_eq!(low.definition, pass("v1"));
    let high = control.resolve_for_start(&alias, 0.25).await.unwrap();
    assert_eq!(high.version_arn.as_deref(), Some(v2.as_str()));
    assert_eq!(high.definition, pass("v2"));

    for bad in [
        format!("{sm}:7"),
        format!("{sm}:nope"),
        h.arns().state_machine("ghost"),
    ] {
        let e = control.resolve_for_start(&bad, 0.5).await.unwrap_err();
        assert_eq!(e.code, "StateMachineDoesNotExist", "{bad}");
        assert_eq!(e.message, format!("State Machine Does Not Exist: '{bad}'"));
    }
    let e = control.resolve_for_start("nope", 0.5).await.unwrap_err();
    assert_eq!(e.code, "InvalidArn");
    let e = control
        .resolve_for_start(&h.arns().activity("a"), 0.5)
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "Invalid Arn: 'Resource type not valid in this context: activity'"
    );
    let e = control
        .resolve_for_start(&format!("{sm}/MapLabel"), 0.5)
        .await
        .unwrap_err();
    assert_eq!(e.code, "ValidationException");

    let express = h
        .ok(
            "CreateStateMachine",
            json!({"name": "fast", "definition": pass("x"), "roleArn": ROLE, "type": "EXPRESS"}),
        )
        .await["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        control
            .resolve_for_start(&express, 0.0)
            .await
            .unwrap()
            .express
    );
}
