//! Nodes sharing one PostgreSQL store (`STEPWISE_TEST_POSTGRES_URL`) change the catalog at the
//! same time: each read-modify-write holds the catalog lock the nodes share, so no update is
//! lost and no version number is given twice.

use std::sync::Arc;

use serde_json::json;
use stepwise_service::types::{
    CreateStateMachineInput, ListStateMachineVersionsInput, ListTagsForResourceInput,
    TagResourceInput, UpdateStateMachineInput,
};
use stepwise_service::{Arns, Control};
use stepwise_store::Store;
use stepwise_store_postgres::PostgresStore;
use stepwise_test_support::postgres::Schema;

const ROLE: &str = "arn:aws:iam::123456789012:role/R";

fn definition(n: usize) -> String {
    json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": n, "End": true}}}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_tagging_and_publishing_at_once_lose_nothing() {
    let Some(schema) = Schema::fresh("catalog") else {
        return;
    };
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let store: Arc<dyn Store> = Arc::new(
            PostgresStore::connect(&schema.url())
                .await
                .expect("connect to PostgreSQL"),
        );
        nodes.push(Arc::new(Control::new(store, Arns::default())));
    }
    let arn = nodes[0]
        .create_state_machine(CreateStateMachineInput::new("shared", definition(0), ROLE))
        .await
        .expect("created")
        .state_machine_arn;

    const EACH: usize = 10;
    let mut calls = tokio::task::JoinSet::new();
    for (k, node) in nodes.iter().enumerate() {
        for i in 0..EACH {
            let (tagger, tagged) = (node.clone(), arn.clone());
            calls.spawn(async move {
                let tag: TagResourceInput = serde_json::from_value(json!({
                    "resourceArn": tagged,
                    "tags": [{"key": format!("node{k}-{i}"), "value": "v"}],
                }))
                .expect("tag request");
                tagger.tag_resource(tag).await.map(|_| None)
            });
            let (node, arn) = (node.clone(), arn.clone());
            calls.spawn(async move {
                let update: UpdateStateMachineInput = serde_json::from_value(json!({
                    "stateMachineArn": arn,
                    "definition": definition(k * EACH + i + 1),
                    "publish": true,
                }))
                .expect("update request");
                node.update_state_machine(update)
                    .await
                    .map(|out| out.state_machine_version_arn)
            });
        }
    }
    let mut versions = Vec::new();
    while let Some(done) = calls.join_next().await {
        if let Some(version) = done.expect("joined").expect("every call succeeds") {
            versions.push(version);
        }
    }

    let tags = nodes[1]
        .list_tags_for_resource(ListTagsForResourceInput::new(&arn))
        .await
        .expect("tags")
        .tags
        .unwrap_or_default();
    assert_eq!(tags.len(), 2 * EACH, "every tag from both nodes is kept");

    versions.sort_by_key(|v| {
        v.rsplit(':')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    });
    let expected: Vec<String> = (1..=2 * EACH).map(|n| format!("{arn}:{n}")).collect();
    assert_eq!(
        versions, expected,
        "each publish got its own version number"
    );
    let listed = nodes[0]
        .list_state_machine_versions(ListStateMachineVersionsInput::new(&arn))
        .await
        .expect("versions")
        .state_machine_versions;
    assert_eq!(listed.len(), 2 * EACH);
}
