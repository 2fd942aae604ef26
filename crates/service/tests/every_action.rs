//! Every one of the 37 actions through its typed method, in one scenario: each answer must read
//! back into the service model's response type (a member the model does not have, a wrong type
//! or an enum value it does not list would fail with `InternalFailure ... response:`), and each
//! refusal must be an AWS error of the model, never an internal one.

use std::sync::Arc;

use stepwise_service::types::*;
use stepwise_service::{Arns, Service, ServiceError};
use stepwise_store::{SqliteStore, Store};

const ROLE: &str = "arn:aws:iam::123456789012:role/R";

/// A refusal must be one of AWS's errors, not a failure to read our own answer.
fn refused<T: std::fmt::Debug>(result: Result<T, ServiceError>, code: &str) {
    match result {
        Err(e) => assert_eq!(e.code, code, "{e}"),
        Ok(v) => panic!("expected {code}, got {v:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_answers_in_the_models_shapes() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().expect("memory store"));
    let service = Service::start(store, Arns::default(), Default::default())
        .await
        .expect("starts");
    let activity = service
        .create_activity(CreateActivityInput::new("work"))
        .await
        .expect("CreateActivity");
    let definition = format!(
        r#"{{"StartAt": "Work", "States": {{"Work": {{"Type": "Task", "Resource": "{}", "End": true}}}}}}"#,
        activity.activity_arn
    );
    let machine = service
        .create_state_machine(
            CreateStateMachineInput::new("every", definition.clone(), ROLE)
                .publish(true)
                .tags(vec![Tag::new().key("team").value("a")]),
        )
        .await
        .expect("CreateStateMachine");
    let sm = machine.state_machine_arn.clone();
    let version = machine
        .state_machine_version_arn
        .clone()
        .expect("published");
    service
        .describe_state_machine(DescribeStateMachineInput::new(&sm))
        .await
        .expect("DescribeStateMachine");
    service
        .update_state_machine(UpdateStateMachineInput::new(&sm).definition(definition.clone()))
        .await
        .expect("UpdateStateMachine");
    assert!(
        !service
            .list_state_machines(ListStateMachinesInput::default())
            .await
            .expect("ListStateMachines")
            .state_machines
            .is_empty()
    );
    let v2 = service
        .publish_state_machine_version(PublishStateMachineVersionInput::new(&sm))
        .await
        .expect("PublishStateMachineVersion");
    service
        .list_state_machine_versions(ListStateMachineVersionsInput::new(&sm))
        .await
        .expect("ListStateMachineVersions");
    let alias = service
        .create_state_machine_alias(CreateStateMachineAliasInput::new(
            "live",
            vec![RoutingConfigurationListItem::new(version.clone(), 100)],
        ))
        .await
        .expect("CreateStateMachineAlias");
    service
        .describe_state_machine_alias(DescribeStateMachineAliasInput::new(
            &alias.state_machine_alias_arn,
        ))
        .await
        .expect("DescribeStateMachineAlias");
    service
        .update_state_machine_alias(
            UpdateStateMachineAliasInput::new(&alias.state_machine_alias_arn)
                .description("the live one"),
        )
        .await
        .expect("UpdateStateMachineAlias");
    service
        .list_state_machine_aliases(ListStateMachineAliasesInput::new(&sm))
        .await
        .expect("ListStateMachineAliases");
    service
        .tag_resource(TagResourceInput::new(
            &sm,
            vec![Tag::new().key("env").value("test")],
        ))
        .await
        .expect("TagResource");
    service
        .untag_resource(UntagResourceInput::new(&sm, vec!["team".to_owned()]))
        .await
        .expect("UntagResource");
    let tags = service
        .list_tags_for_resource(ListTagsForResourceInput::new(&sm))
        .await
        .expect("ListTagsForResource");
    assert_eq!(tags.tags.map(|t| t.len()), Some(1));
    let valid = service
        .validate_state_machine_definition(ValidateStateMachineDefinitionInput::new(
            definition.clone(),
        ))
        .await
        .expect("ValidateStateMachineDefinition");
    assert_eq!(valid.result, ValidateStateMachineDefinitionResultCode::Ok);
    service
        .describe_activity(DescribeActivityInput::new(&activity.activity_arn))
        .await
        .expect("DescribeActivity");
    service
        .list_activities(ListActivitiesInput::default())
        .await
        .expect("ListActivities");

    // Executions: one through the alias, its task taken and failed; one stopped.
    let run = service
        .start_execution(StartExecutionInput::new(&alias.state_machine_alias_arn).name("one"))
        .await
        .expect("StartExecution");
    let task = service
        .get_activity_task(GetActivityTaskInput::new(&activity.activity_arn).worker_name("w"))
        .await
        .expect("GetActivityTask");
    let token = task.task_token.expect("a task is queued");
    service
        .send_task_heartbeat(SendTaskHeartbeatInput::new(&token))
        .await
        .expect("SendTaskHeartbeat");
    service
        .send_task_failure(SendTaskFailureInput::new(&token).error("Boom"))
        .await
        .expect("SendTaskFailure");
    refused(
        service
            .send_task_success(SendTaskSuccessInput::new(&token, "{}"))
            .await,
        "TaskTimedOut",
    );
    let failed = service
        .wait_for_execution(&run.execution_arn)
        .await
        .expect("ends");
    assert_eq!(failed.status, ExecutionStatus::Failed);
    service
        .describe_state_machine_for_execution(DescribeStateMachineForExecutionInput::new(
            &run.execution_arn,
        ))
        .await
        .expect("DescribeStateMachineForExecution");
    service
        .redrive_execution(RedriveExecutionInput::new(&run.execution_arn))
        .await
        .expect("RedriveExecution");
    let second = service
        .start_execution(StartExecutionInput::new(&v2.state_machine_version_arn).name("two"))
        .await
        .expect("StartExecution of a version");
    service
        .stop_execution(StopExecutionInput::new(&second.execution_arn))
        .await
        .expect("StopExecution");
    service
        .describe_execution(DescribeExecutionInput::new(&run.execution_arn))
        .await
        .expect("DescribeExecution");
    let listed = service
        .list_executions(ListExecutionsInput::default().state_machine_arn(sm.clone()))
        .await
        .expect("ListExecutions");
    assert_eq!(listed.executions.len(), 2);
    service
        .get_execution_history(GetExecutionHistoryInput::new(&run.execution_arn))
        .await
        .expect("GetExecutionHistory");
    service
        .list_map_runs(ListMapRunsInput::new(&run.execution_arn))
        .await
        .expect("ListMapRuns");
    let map_run =
        "arn:aws:states:us-east-1:123456789012:mapRun:every/m:0f6c2b0e-6d8b-4d5e-9c3a-1b2c3d4e5f60";
    refused(
        service
            .describe_map_run(DescribeMapRunInput::new(map_run))
            .await,
        "ResourceNotFound",
    );
    refused(
        service
            .update_map_run(UpdateMapRunInput::new(map_run).max_concurrency(2))
            .await,
        "ResourceNotFound",
    );

    let quick = service
        .create_state_machine(
            CreateStateMachineInput::new(
                "quick",
                r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
                ROLE,
            )
            .r#type(StateMachineType::Express),
        )
        .await
        .expect("CreateStateMachine (Express)");
    let sync = service
        .start_sync_execution(
            StartSyncExecutionInput::new(&quick.state_machine_arn).input(r#"{"a": 1}"#),
        )
        .await
        .expect("StartSyncExecution");
    assert_eq!(sync.status, SyncExecutionStatus::Succeeded);
    let tested = service
        .test_state(
            TestStateInput::new(r#"{"Type": "Pass", "Result": {"b": 2}, "End": true}"#).input("{}"),
        )
        .await
        .expect("TestState");
    assert_eq!(tested.status, Some(TestExecutionStatus::Succeeded));

    // Cleaning up.
    service
        .delete_state_machine_alias(DeleteStateMachineAliasInput::new(
            &alias.state_machine_alias_arn,
        ))
        .await
        .expect("DeleteStateMachineAlias");
    service
        .delete_state_machine_version(DeleteStateMachineVersionInput::new(&version))
        .await
        .expect("DeleteStateMachineVersion");
    service
        .delete_state_machine(DeleteStateMachineInput::new(&sm))
        .await
        .expect("DeleteStateMachine");
    service
        .delete_activity(DeleteActivityInput::new(&activity.activity_arn))
        .await
        .expect("DeleteActivity");
    service.shutdown();
}
