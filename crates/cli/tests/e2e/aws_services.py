"""`aws-sdk:*` Task states through boto3 against `stepwise serve`, which the Rust harness
(e2e_aws.rs) points at moto's server (AWS_ENDPOINT_URL=$MOTO_URL). This script makes the
resources in moto with boto3, runs state machines whose Tasks call DynamoDB, S3, SQS, SNS,
EventBridge, Secrets Manager, STS, IAM, EC2 and Lambda, and checks the results, the errors their
Catch rules see, and what landed in moto."""

import json

from common import client, create_machine, definition, eq, moto, run_machine, run_tests, succeeded, wait_done

sfn = client()


aws = moto


def sdk(service, action):
    return f"arn:aws:states:::aws-sdk:{service}:{action}"


def run(states, input=None, **extra):
    """Runs a Standard execution of `states` to its end; returns DescribeExecution."""
    return run_machine(sfn, states, input, **extra)


output = succeeded


def caught(resource, parameters):
    """A state machine whose one Task calls `resource` and catches every error into $.caught."""
    return {
        "Call": {
            "Type": "Task",
            "Resource": resource,
            "Parameters": parameters,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Done"}],
            "Next": "Done",
        },
        "Done": {"Type": "Pass", "End": True},
    }


def test_dynamodb_put_get_update_and_a_failed_condition_caught_by_its_name():
    ddb = aws("dynamodb")
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    out = output(run({
        "Put": {"Type": "Task", "Resource": sdk("dynamodb", "putItem"), "ResultPath": "$.put", "Next": "Get",
                "Parameters": {"TableName": "orders", "Item": {"id": {"S.$": "$.id"}, "n": {"N": "1"}}}},
        "Get": {"Type": "Task", "Resource": sdk("dynamodb", "getItem"), "ResultPath": "$.get", "Next": "Update",
                "Parameters": {"TableName": "orders", "Key": {"id": {"S.$": "$.id"}}}},
        "Update": {"Type": "Task", "Resource": sdk("dynamodb", "updateItem"), "ResultPath": "$.update",
                   "Next": "Again",
                   "Parameters": {"TableName": "orders", "Key": {"id": {"S.$": "$.id"}},
                                  "UpdateExpression": "SET n = n + :one",
                                  "ExpressionAttributeValues": {":one": {"N": "1"}},
                                  "ReturnValues": "ALL_NEW"}},
        "Again": {"Type": "Task", "Resource": sdk("dynamodb", "putItem"), "ResultPath": "$.again", "End": True,
                  "Parameters": {"TableName": "orders", "Item": {"id": {"S.$": "$.id"}},
                                 "ConditionExpression": "attribute_not_exists(id)"},
                  "Catch": [{"ErrorEquals": ["DynamoDb.ConditionalCheckFailedException"],
                             "ResultPath": "$.conflict", "Next": "Conflict"}]},
        "Conflict": {"Type": "Pass", "End": True},
    }, {"id": "o-1"}))
    eq(out["put"], {}, "PutItem's result")
    eq(out["get"], {"Item": {"id": {"S": "o-1"}, "n": {"N": "1"}}}, "GetItem's result")
    eq(out["update"]["Attributes"], {"id": {"S": "o-1"}, "n": {"N": "2"}}, "UpdateItem's new item")
    eq(out["conflict"]["Error"], "DynamoDb.ConditionalCheckFailedException", "the error name")
    assert out["conflict"]["Cause"].startswith("The conditional request failed (Service: DynamoDb, Status Code: 400, Request ID: "), out["conflict"]
    eq(ddb.get_item(TableName="orders", Key={"id": {"S": "o-1"}})["Item"]["n"], {"N": "2"}, "the stored item")


def test_dynamodb_errors_carry_the_aws_sdk_prefix():
    d = run(caught(sdk("dynamodb", "putItem"), {"TableName": "no-such-table", "Item": {"id": {"S": "x"}}}))
    err = output(d)["caught"]
    eq(err["Error"], "DynamoDb.ResourceNotFoundException", "a missing table")
    assert "(Service: DynamoDb, Status Code: 400, Request ID: " in err["Cause"], err
    # A required member left out: the service's own validation error, before any request.
    d = run(caught(sdk("dynamodb", "putItem"), {"TableName": "orders"}))
    err = output(d)["caught"]
    eq(err["Error"], "DynamoDb.DynamoDbException", "a missing required member")
    assert err["Cause"].startswith(
        "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null "
        "(Service: DynamoDb, Status Code: 400, Request ID: "), err

    # A value of the wrong type: refused before any request, as Step Functions refuses it
    # (States.Runtime, which no Catch takes), never sent for the service to guess at.
    before = aws("dynamodb").scan(TableName="orders")["Count"]
    d = run(caught(sdk("dynamodb", "putItem"), {"TableName": "orders", "Item": {"id": {"N": 5}}}))
    eq(d["status"], "FAILED", "a number where DynamoDB takes text")
    eq(d["error"], "States.Runtime", "a value of the wrong type")
    eq(d["cause"], "The Parameters '{\"TableName\":\"orders\",\"Item\":{\"id\":{\"N\":5}}}' could not be "
       "used to start the Task: [The value for the field 'Item.id.N' must be a STRING]", "its cause")
    eq(aws("dynamodb").scan(TableName="orders")["Count"], before, "items after the refused call")

def test_s3_put_get_and_a_missing_key_caught_by_its_name():
    aws("s3").create_bucket(Bucket="stepwise-e2e")
    out = output(run({
        "Put": {"Type": "Task", "Resource": sdk("s3", "putObject"), "ResultPath": "$.put", "Next": "Get",
                "Parameters": {"Bucket": "stepwise-e2e", "Key": "dir/a file.txt", "Body.$": "$.text"}},
        "Get": {"Type": "Task", "Resource": sdk("s3", "getObject"), "ResultPath": "$.get", "Next": "Missing",
                "Parameters": {"Bucket": "stepwise-e2e", "Key": "dir/a file.txt"}},
        "Missing": {"Type": "Task", "Resource": sdk("s3", "getObject"), "End": True,
                    "Parameters": {"Bucket": "stepwise-e2e", "Key": "nothing-here"},
                    "Catch": [{"ErrorEquals": ["S3.NoSuchKeyException"], "ResultPath": "$.missing", "Next": "Gone"}]},
        "Gone": {"Type": "Pass", "End": True},
    }, {"text": "hello, S3"}))
    assert out["put"]["ETag"].startswith('"'), out["put"]
    # The body goes with its CRC32, as the SDKs send it, and S3 answers it back.
    eq(out["put"].get("ChecksumCRC32"), "uLHweQ==", "the CRC32 of the stored body")
    # A Body given as JSON is stored as its JSON text, a string with its quotes (as AWS does).
    eq(out["get"]["Body"], '"hello, S3"', "the object's body")
    eq(out["get"]["ContentLength"], 11, "its length")
    eq(out["get"]["ETag"], out["put"]["ETag"], "its ETag")
    assert out["get"]["LastModified"].endswith("Z"), out["get"]
    eq(out["missing"]["Error"], "S3.NoSuchKeyException", "a missing key")
    assert out["missing"]["Cause"].startswith("The specified key does not exist. (Service: S3, Status Code: 404"), out
    body = aws("s3").get_object(Bucket="stepwise-e2e", Key="dir/a file.txt")["Body"].read()
    eq(body, b'"hello, S3"', "what moto stored")
    err = output(run(caught(sdk("s3", "listObjectsV2"), {"Bucket": "no-such-bucket-e2e"})))["caught"]
    eq(err["Error"], "S3.NoSuchBucketException", "a missing bucket")


def test_sqs_send_message_lands_in_the_queue():
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="e2e-jobs")["QueueUrl"]
    out = output(run({
        "Send": {"Type": "Task", "Resource": sdk("sqs", "sendMessage"), "End": True,
                 "Parameters": {"QueueUrl": url, "MessageBody.$": "States.JsonToString($.job)"}},
    }, {"job": {"n": 7}}))
    assert out["MessageId"], out
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1)["Messages"]
    eq(json.loads(got[0]["Body"]), {"n": 7}, "the message")
    eq(got[0]["MessageId"], out["MessageId"], "its id")


def test_sns_publish_and_eventbridge_put_events():
    topic = aws("sns").create_topic(Name="e2e-topic")["TopicArn"]
    out = output(run({
        "Publish": {"Type": "Task", "Resource": sdk("sns", "publish"), "ResultPath": "$.sns", "Next": "Events",
                    "Parameters": {"TopicArn": topic, "Message": "hi", "Subject": "e2e"}},
        "Events": {"Type": "Task", "Resource": sdk("eventbridge", "putEvents"), "ResultPath": "$.events", "End": True,
                   "Parameters": {"Entries": [{"Source": "e2e", "DetailType": "t", "Detail": "{\"a\":1}"}]}},
    }))
    assert out["sns"]["MessageId"], out
    eq(out["events"]["FailedEntryCount"], 0, "PutEvents failures")
    eq(len(out["events"]["Entries"]), 1, "PutEvents entries")


def test_secrets_sts_iam_ec2_and_lambda_through_their_protocols():
    out = output(run({
        "Create": {"Type": "Task", "Resource": sdk("secretsmanager", "createSecret"), "ResultPath": "$.created",
                   "Next": "Read", "Parameters": {"Name": "e2e-secret", "SecretString": "s3cr3t"}},
        "Read": {"Type": "Task", "Resource": sdk("secretsmanager", "getSecretValue"), "ResultPath": "$.secret",
                 "Next": "Who", "Parameters": {"SecretId": "e2e-secret"}},
        "Who": {"Type": "Task", "Resource": sdk("sts", "getCallerIdentity"), "ResultPath": "$.who", "Next": "Roles",
                "Parameters": {}},
        "Roles": {"Type": "Task", "Resource": sdk("iam", "listRoles"), "ResultPath": "$.roles", "Next": "Regions",
                  "Parameters": {}},
        "Regions": {"Type": "Task", "Resource": sdk("ec2", "describeRegions"), "ResultPath": "$.regions",
                    "Next": "Functions", "Parameters": {"RegionNames": ["us-east-1", "eu-west-1"]}},
        "Functions": {"Type": "Task", "Resource": sdk("lambda", "listFunctions"), "ResultPath": "$.functions",
                      "End": True, "Parameters": {}},
    }))
    eq(out["secret"]["SecretString"], "s3cr3t", "the secret (json)")
    assert out["secret"]["CreatedDate"].endswith("Z"), out["secret"]
    assert out["who"]["Account"], out["who"]  # query
    assert isinstance(out["roles"]["Roles"], list), out["roles"]  # query, a list
    eq(sorted(r["RegionName"] for r in out["regions"]["Regions"]), ["eu-west-1", "us-east-1"], "ec2")
    eq(out["functions"]["Functions"], [], "rest-json")


def test_aws_sdk_sfn_reaches_stepwise_itself():
    target = create_machine(sfn, definition({"P": {"Type": "Pass", "Result": {"child": True}, "End": True}}))
    out = output(run({
        "Start": {"Type": "Task", "Resource": sdk("sfn", "startExecution"), "ResultPath": "$.started",
                  "Next": "Describe", "Parameters": {"StateMachineArn": target, "Name": "from-a-task",
                                                     "Input": "{}"}},
        "Describe": {"Type": "Task", "Resource": sdk("sfn", "describeExecution"), "ResultPath": "$.described",
                     "End": True, "Parameters": {"ExecutionArn.$": "$.started.ExecutionArn"}},
    }))
    assert out["started"]["ExecutionArn"].endswith(":from-a-task"), out
    assert out["started"]["StartDate"].endswith("Z"), out
    eq(out["described"]["Name"], "from-a-task", "DescribeExecution through aws-sdk:sfn")
    eq(wait_done(sfn, out["started"]["ExecutionArn"])["status"], "SUCCEEDED", "the child on Stepwise")
    # An error from Stepwise's API, named as Step Functions names it.
    err = output(run(caught(sdk("sfn", "sendTaskSuccess"), {"TaskToken": "no-such-token", "Output": "{}"})))["caught"]
    eq(err["Error"], "Sfn.InvalidTokenException", "a bad token")
    assert "(Service: Sfn, Status Code: 400, Request ID: " in err["Cause"], err


def test_optimized_dynamodb_with_sdk_metadata_and_its_own_error_names():
    out = output(run({
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "ResultPath": "$.put",
                "Next": "Get", "Parameters": {"TableName": "orders", "Item": {"id": {"S": "opt-1"}}}},
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "ResultPath": "$.get",
                "Next": "Again", "Parameters": {"TableName": "orders", "Key": {"id": {"S": "opt-1"}}}},
        "Again": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": True,
                  "Parameters": {"TableName": "orders", "Item": {"id": {"S": "opt-1"}},
                                 "ConditionExpression": "attribute_not_exists(id)"},
                  "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                             "ResultPath": "$.conflict", "Next": "Conflict"}]},
        "Conflict": {"Type": "Pass", "End": True},
    }))
    meta = out["put"]["SdkHttpMetadata"]
    eq(meta["HttpStatusCode"], 200, "SdkHttpMetadata.HttpStatusCode")
    assert meta["HttpHeaders"]["Content-Type"].startswith("application/x-amz-json-1.0"), meta
    assert out["put"]["SdkResponseMetadata"]["RequestId"] == meta["HttpHeaders"]["x-amzn-RequestId"], out["put"]
    eq(out["get"]["Item"], {"id": {"S": "opt-1"}}, "GetItem's item")
    eq(out["conflict"]["Error"], "DynamoDB.ConditionalCheckFailedException", "the optimized error name")
    assert out["conflict"]["Cause"].startswith(
        "The conditional request failed (Service: AmazonDynamoDBv2; Status Code: 400; "
        "Error Code: ConditionalCheckFailedException; Request ID: "), out["conflict"]
    assert out["conflict"]["Cause"].endswith("; Proxy: null)"), out["conflict"]
    err = output(run(caught("arn:aws:states:::dynamodb:putItem",
                            {"TableName": "no-such-table", "Item": {"id": {"S": "x"}}})))["caught"]
    eq(err["Error"], "DynamoDB.ResourceNotFoundException", "a missing table")


def test_optimized_sqs_sns_and_events_take_json_where_the_api_takes_text():
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="e2e-optimized")["QueueUrl"]
    topic = aws("sns").create_topic(Name="e2e-optimized")["TopicArn"]
    out = output(run({
        "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "ResultPath": "$.sqs",
                 "Next": "Publish", "Parameters": {"QueueUrl": url, "MessageBody": {"order": 42}}},
        "Publish": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "ResultPath": "$.sns",
                    "Next": "Events", "Parameters": {"TopicArn": topic, "Message": {"order": 42}}},
        "Events": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "ResultPath": "$.events",
                   "End": True, "Parameters": {"Entries": [{"Source": "e2e", "DetailType": "order",
                                                            "Detail": {"order": 42}}]}},
    }))
    assert out["sqs"]["MessageId"] and out["sqs"]["MD5OfMessageBody"], out["sqs"]
    eq(out["sqs"]["SdkHttpMetadata"]["HttpStatusCode"], 200, "SQS metadata")
    assert out["sns"]["MessageId"] and "SdkResponseMetadata" in out["sns"], out["sns"]
    eq(out["events"]["FailedEntryCount"], 0, "PutEvents failures")
    assert "SdkHttpMetadata" not in out["events"], out["events"]
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]
    eq(json.loads(got["Body"]), {"order": 42}, "the message, sent as JSON text")
    # A body that is null at run time (a missing field is refused when the machine is created).
    err = output(run(caught("arn:aws:states:::sqs:sendMessage", {"QueueUrl": url, "MessageBody.$": "$.body"}),
                     {"body": None}))["caught"]
    eq(err["Error"], "SQS.AmazonSQSException", "a missing MessageBody")
    assert err["Cause"].startswith(
        "The request must contain the parameter MessageBody. (Service: AmazonSQS; Status Code: 400; "
        "Error Code: MissingParameter; Request ID: "), err


def test_sqs_wait_for_task_token_answered_by_a_worker_reading_the_queue():
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="e2e-callbacks")["QueueUrl"]
    arn = create_machine(sfn, definition({
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True,
                "TimeoutSeconds": 30,
                "Parameters": {"QueueUrl": url, "MessageBody": {"token.$": "$$.Task.Token", "n.$": "$.n"}}},
    }))
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": 5}))["executionArn"]
    msg = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)["Messages"][0]
    body = json.loads(msg["Body"])
    eq(body["n"], 5, "the message the task sent")
    sfn.send_task_success(taskToken=body["token"], output=json.dumps({"doubled": body["n"] * 2}))
    d = wait_done(sfn, ex)
    eq(json.loads(d["output"]), {"doubled": 10}, "the worker's answer is the task's result")


def test_a_task_with_credentials_calls_as_the_role_it_names():
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = aws("iam").create_role(RoleName="e2e-task-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    out = output(run({
        "AsRole": {"Type": "Task", "Resource": sdk("sts", "getCallerIdentity"), "Parameters": {},
                   "Credentials": {"RoleArn.$": "$.role"}, "ResultPath": "$.as_role", "Next": "AsItself"},
        "AsItself": {"Type": "Task", "Resource": sdk("sts", "getCallerIdentity"), "Parameters": {},
                     "ResultPath": "$.as_itself", "End": True},
    }, {"role": role}))
    assert ":assumed-role/e2e-task-role/" in out["as_role"]["Arn"], out
    assert ":assumed-role/" not in out["as_itself"]["Arn"], out


def test_a_result_over_the_limit_fails_with_data_limit_exceeded():
    s3 = aws("s3")
    s3.create_bucket(Bucket="stepwise-e2e-big")
    s3.put_object(Bucket="stepwise-e2e-big", Key="ten-mb", Body=b"x" * (10 * 1024 * 1024))
    s3.put_object(Bucket="stepwise-e2e-big", Key="300-kb", Body=b"y" * (300 * 1024))
    for key in ("ten-mb", "300-kb"):
        d = run({"Get": {"Type": "Task", "Resource": sdk("s3", "getObject"), "End": True,
                         "Parameters": {"Bucket": "stepwise-e2e-big", "Key": key}}})
        eq(d["status"], "FAILED", key)
        eq(d["error"], "States.DataLimitExceeded", key)
        assert "exceeding the maximum number of bytes service limit" in d["cause"], d


if __name__ == "__main__":
    run_tests(globals())
