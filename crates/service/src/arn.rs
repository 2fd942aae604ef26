//! ARNs of Step Functions resources and the rules for the names inside them.
//!
//! [`Arns`] formats the ARNs this server hands out (one partition, region and account);
//! [`parse`] reads any Step Functions ARN into a typed [`ResourceArn`], and the `expect_*`
//! helpers turn "not the kind of ARN this action takes" into AWS's `InvalidArn` answer. Whether
//! the resource exists is not this module's business.

use crate::error::ServiceError;

/// The partition every ARN of this server is in.
pub const PARTITION: &str = "aws";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// Formats ARNs for one region and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arns {
    pub region: String,
    pub account: String,
}

impl Default for Arns {
    fn default() -> Self {
        Arns {
            region: DEFAULT_REGION.to_string(),
            account: DEFAULT_ACCOUNT.to_string(),
        }
    }
}

impl Arns {
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> Self {
        Arns {
            region: region.into(),
            account: account.into(),
        }
    }

    /// From `AWS_DEFAULT_REGION` (or `AWS_REGION`) and `AWS_ACCOUNT_ID`, with the defaults
    /// `us-east-1` and `123456789012`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Arns {
            region: var("AWS_DEFAULT_REGION")
                .or_else(|| var("AWS_REGION"))
                .unwrap_or_else(|| DEFAULT_REGION.to_string()),
            account: var("AWS_ACCOUNT_ID").unwrap_or_else(|| DEFAULT_ACCOUNT.to_string()),
        }
    }

    /// The region and account `arn` is in (`None`: not a Step Functions ARN).
    pub fn of(arn: &str) -> Option<Arns> {
        parse(arn).ok().map(|p| Arns::new(p.region, p.account))
    }

    /// `arn:aws:states:REGION:ACCOUNT:`, the start of every ARN these make.
    pub fn prefix(&self) -> String {
        format!("arn:{PARTITION}:states:{}:{}:", self.region, self.account)
    }

    pub fn state_machine(&self, name: &str) -> String {
        format!("{}stateMachine:{name}", self.prefix())
    }

    pub fn version(&self, state_machine: &str, version: u64) -> String {
        format!("{}stateMachine:{state_machine}:{version}", self.prefix())
    }

    pub fn alias(&self, state_machine: &str, alias: &str) -> String {
        format!("{}stateMachine:{state_machine}:{alias}", self.prefix())
    }

    /// A Standard execution (also one started through a version or an alias).
    pub fn execution(&self, state_machine: &str, name: &str) -> String {
        format!("{}execution:{state_machine}:{name}", self.prefix())
    }

    /// An Express execution: AWS adds a UUID after the name.
    pub fn express_execution(&self, state_machine: &str, name: &str, id: &str) -> String {
        format!("{}express:{state_machine}:{name}:{id}", self.prefix())
    }

    pub fn activity(&self, name: &str) -> String {
        format!("{}activity:{name}", self.prefix())
    }

    /// A Distributed Map run: `mapRun:SM/LABEL:UUID`.
    pub fn map_run(&self, state_machine: &str, label: &str, id: &str) -> String {
        format!("{}mapRun:{state_machine}/{label}:{id}", self.prefix())
    }

    /// The unqualified state machine ARN of a version or alias ARN (itself otherwise).
    pub fn unqualified(arn: &str) -> String {
        match parse(arn) {
            Ok(parsed) => match &parsed.resource {
                Resource::Version { state_machine, .. } | Resource::Alias { state_machine, .. } => {
                    format!("{}stateMachine:{state_machine}", parsed.prefix())
                }
                _ => arn.to_string(),
            },
            Err(_) => arn.to_string(),
        }
    }
}

/// What a Step Functions ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    StateMachine {
        name: String,
    },
    /// `stateMachine:NAME/LABEL`: a Distributed Map state inside a state machine.
    LabeledStateMachine {
        name: String,
        label: String,
    },
    Version {
        state_machine: String,
        version: u64,
    },
    Alias {
        state_machine: String,
        alias: String,
    },
    Execution {
        state_machine: String,
        name: String,
    },
    ExpressExecution {
        state_machine: String,
        name: String,
        id: String,
    },
    Activity {
        name: String,
    },
    MapRun {
        state_machine: String,
        label: String,
        id: String,
    },
}

impl Resource {
    /// The resource type as it is written in the ARN.
    pub fn type_name(&self) -> &'static str {
        match self {
            Resource::StateMachine { .. }
            | Resource::LabeledStateMachine { .. }
            | Resource::Version { .. }
            | Resource::Alias { .. } => "stateMachine",
            Resource::Execution { .. } => "execution",
            Resource::ExpressExecution { .. } => "express",
            Resource::Activity { .. } => "activity",
            Resource::MapRun { .. } => "mapRun",
        }
    }
}

/// A parsed Step Functions ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub resource: Resource,
}

impl ResourceArn {
    fn prefix(&self) -> String {
        format!(
            "arn:{}:states:{}:{}:",
            self.partition, self.region, self.account
        )
    }
}

fn invalid_prefix(arn: &str) -> ServiceError {
    ServiceError::invalid_arn(format_args!("Invalid ARN prefix: {arn}"))
}

fn wrong_type(type_name: &str) -> ServiceError {
    ServiceError::invalid_arn(format_args!(
        "Resource type not valid in this context: {type_name}"
    ))
}

/// Reads a Step Functions ARN. Anything that is not `arn:PARTITION:states:REGION:ACCOUNT:...`
/// is `Invalid Arn: 'Invalid ARN prefix: ...'`, as AWS answers; a resource part that names no
/// Step Functions resource is `Resource type not valid in this context`.
pub fn parse(arn: &str) -> Result<ResourceArn, ServiceError> {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, resource] = fields[..] else {
        return Err(invalid_prefix(arn));
    };
    if scheme != "arn"
        || partition.is_empty()
        || service != "states"
        || region.is_empty()
        || account.is_empty()
        || resource.is_empty()
    {
        return Err(invalid_prefix(arn));
    }
    let parts: Vec<&str> = resource.split(':').collect();
    let nonempty = |parts: &[&str]| parts.iter().all(|p| !p.is_empty());
    let resource = match (parts[0], parts.len()) {
        ("stateMachine", 2) if nonempty(&parts) => match parts[1].split_once('/') {
            Some((name, label)) if !name.is_empty() && !label.is_empty() => {
                Resource::LabeledStateMachine {
                    name: name.to_string(),
                    label: label.to_string(),
                }
            }
            Some(_) => return Err(invalid_prefix(arn)),
            None => Resource::StateMachine {
                name: parts[1].to_string(),
            },
        },
        ("stateMachine", 3) if nonempty(&parts) => {
            let qualifier = parts[2];
            if qualifier.bytes().all(|b| b.is_ascii_digit()) {
                match qualifier.parse::<u64>() {
                    Ok(version) => Resource::Version {
                        state_machine: parts[1].to_string(),
                        version,
                    },
                    Err(_) => return Err(invalid_prefix(arn)),
                }
            } else {
                Resource::Alias {
                    state_machine: parts[1].to_string(),
                    alias: qualifier.to_string(),
                }
            }
        }
        ("execution", 3) if nonempty(&parts) => Resource::Execution {
            state_machine: parts[1].to_string(),
            name: parts[2].to_string(),
        },
        ("express", 4) if nonempty(&parts) => Resource::ExpressExecution {
            state_machine: parts[1].to_string(),
            name: parts[2].to_string(),
            id: parts[3].to_string(),
        },
        ("activity", 2) if nonempty(&parts) => Resource::Activity {
            name: parts[1].to_string(),
        },
        ("mapRun", 3) if nonempty(&parts) => match parts[1].split_once('/') {
            Some((sm, label)) if !sm.is_empty() && !label.is_empty() => Resource::MapRun {
                state_machine: sm.to_string(),
                label: label.to_string(),
                id: parts[2].to_string(),
            },
            _ => return Err(invalid_prefix(arn)),
        },
        ("stateMachine" | "execution" | "express" | "activity" | "mapRun", _) => {
            return Err(invalid_prefix(arn));
        }
        (other, _) => return Err(wrong_type(other)),
    };
    Ok(ResourceArn {
        partition: partition.to_string(),
        region: region.to_string(),
        account: account.to_string(),
        resource,
    })
}

/// Which kinds of state machine ARN an action takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Accept {
    pub version: bool,
    pub alias: bool,
}

impl Accept {
    pub const UNQUALIFIED: Accept = Accept {
        version: false,
        alias: false,
    };
    pub const WITH_VERSION: Accept = Accept {
        version: true,
        alias: false,
    };
    pub const ANY: Accept = Accept {
        version: true,
        alias: true,
    };
}

/// A state machine ARN an action accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateMachineRef {
    Unqualified { name: String },
    Version { name: String, version: u64 },
    Alias { name: String, alias: String },
}

impl StateMachineRef {
    pub fn name(&self) -> &str {
        match self {
            StateMachineRef::Unqualified { name }
            | StateMachineRef::Version { name, .. }
            | StateMachineRef::Alias { name, .. } => name,
        }
    }
}

/// Reads a state machine ARN for an action. A labeled (Distributed Map) ARN is a
/// ValidationException, as the API reference says; any other resource type is `InvalidArn`.
/// A version or alias ARN the action does not take comes back as `Err(None)`: the caller
/// answers as AWS does for it (usually "does not exist").
pub fn expect_state_machine(
    arn: &str,
    accept: Accept,
) -> Result<StateMachineRef, Option<ServiceError>> {
    let parsed = parse(arn).map_err(Some)?;
    match parsed.resource {
        Resource::StateMachine { name } => Ok(StateMachineRef::Unqualified { name }),
        Resource::Version {
            state_machine,
            version,
        } if accept.version => Ok(StateMachineRef::Version {
            name: state_machine,
            version,
        }),
        Resource::Alias {
            state_machine,
            alias,
        } if accept.alias => Ok(StateMachineRef::Alias {
            name: state_machine,
            alias,
        }),
        Resource::Version { .. } | Resource::Alias { .. } => Err(None),
        Resource::LabeledStateMachine { .. } => Err(Some(labeled_arn_not_supported(arn))),
        other => Err(Some(wrong_type(other.type_name()))),
    }
}

/// The answer for a Distributed Map ARN (`stateMachine:NAME/LABEL`) where it is not supported.
pub fn labeled_arn_not_supported(arn: &str) -> ServiceError {
    ServiceError::validation_reason(
        format!("This operation does not support labeled ARNs: '{arn}'"),
        "API_DOES_NOT_SUPPORT_LABELED_ARNS",
    )
}

/// Reads an execution ARN (Standard or Express).
pub fn expect_execution(arn: &str) -> Result<ResourceArn, ServiceError> {
    let parsed = parse(arn)?;
    match parsed.resource {
        Resource::Execution { .. } | Resource::ExpressExecution { .. } => Ok(parsed),
        ref other => Err(wrong_type(other.type_name())),
    }
}

/// Reads the ARN of a Standard execution: the actions AWS refuses for Express executions
/// (DescribeExecution, GetExecutionHistory, StopExecution, ...) answer an Express execution's ARN
/// with `Invalid Arn: 'Resource type not valid in this context: express'`, as AWS's recordings
/// show.
pub fn expect_standard_execution(arn: &str) -> Result<ResourceArn, ServiceError> {
    let parsed = parse(arn)?;
    match parsed.resource {
        Resource::Execution { .. } => Ok(parsed),
        ref other => Err(wrong_type(other.type_name())),
    }
}

/// Reads an activity ARN.
pub fn expect_activity(arn: &str) -> Result<String, ServiceError> {
    match parse(arn)?.resource {
        Resource::Activity { name } => Ok(name),
        other => Err(wrong_type(other.type_name())),
    }
}

/// The longest name AWS accepts for state machines, executions and activities.
pub const MAX_NAME_CHARS: usize = 80;

/// Whether a state machine, execution or activity name follows AWS's rules: 1 to 80
/// characters, none of them whitespace, brackets `< > { } [ ]`, wildcards `? *`, the special
/// characters `" # % \ ^ | ~ ` $ & , ; : /`, or control characters (U+0000–U+001F,
/// U+007F–U+009F).
pub fn is_valid_name(name: &str) -> bool {
    let count = name.chars().count();
    if count == 0 || count > MAX_NAME_CHARS {
        return false;
    }
    name.chars().all(stepwise_asl::parse::is_name_char)
}

/// `InvalidName` unless the name follows AWS's rules.
pub fn check_name(name: &str) -> Result<(), ServiceError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(ServiceError::invalid_name(name))
    }
}

/// Whether an alias name follows AWS's rule (`CharacterRestrictedName`): letters, digits, `_`,
/// `-` and `.`, at least one of them not a digit, 1 to 80 characters. The request checker
/// enforces it from the model; this is for callers that build names themselves.
pub fn is_valid_alias_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=MAX_NAME_CHARS).contains(&count)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name
            .chars()
            .any(|c| c.is_ascii_alphabetic() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arns() -> Arns {
        Arns::new("eu-west-1", "111122223333")
    }

    #[test]
    fn formats_every_kind_of_arn() {
        let a = arns();
        assert_eq!(
            a.state_machine("sm"),
            "arn:aws:states:eu-west-1:111122223333:stateMachine:sm"
        );
        assert_eq!(
            a.version("sm", 3),
            "arn:aws:states:eu-west-1:111122223333:stateMachine:sm:3"
        );
        assert_eq!(
            a.alias("sm", "PROD"),
            "arn:aws:states:eu-west-1:111122223333:stateMachine:sm:PROD"
        );
        assert_eq!(
            a.execution("sm", "e1"),
            "arn:aws:states:eu-west-1:111122223333:execution:sm:e1"
        );
        assert_eq!(
            a.express_execution("sm", "e1", "u-1"),
            "arn:aws:states:eu-west-1:111122223333:express:sm:e1:u-1"
        );
        assert_eq!(
            a.activity("act"),
            "arn:aws:states:eu-west-1:111122223333:activity:act"
        );
        assert_eq!(
            a.map_run("sm", "Map", "u-2"),
            "arn:aws:states:eu-west-1:111122223333:mapRun:sm/Map:u-2"
        );
    }

    #[test]
    fn parses_what_it_formats() {
        let a = arns();
        let cases = [
            (
                a.state_machine("sm.v2"),
                Resource::StateMachine {
                    name: "sm.v2".into(),
                },
            ),
            (
                a.version("sm", 12),
                Resource::Version {
                    state_machine: "sm".into(),
                    version: 12,
                },
            ),
            (
                a.alias("sm", "PROD"),
                Resource::Alias {
                    state_machine: "sm".into(),
                    alias: "PROD".into(),
                },
            ),
            (
                a.execution("sm", "e.1"),
                Resource::Execution {
                    state_machine: "sm".into(),
                    name: "e.1".into(),
                },
            ),
            (
                a.express_execution("sm", "e", "id"),
                Resource::ExpressExecution {
                    state_machine: "sm".into(),
                    name: "e".into(),
                    id: "id".into(),
                },
            ),
            (a.activity("act"), Resource::Activity { name: "act".into() }),
            (
                a.map_run("sm", "L", "id"),
                Resource::MapRun {
                    state_machine: "sm".into(),
                    label: "L".into(),
                    id: "id".into(),
                },
            ),
        ];
        for (arn, resource) in cases {
            let parsed = parse(&arn).unwrap();
            assert_eq!(parsed.resource, resource, "{arn}");
            assert_eq!(parsed.region, "eu-west-1");
            assert_eq!(parsed.account, "111122223333");
        }
    }

    #[test]
    fn malformed_arns_get_aws_messages() {
        assert_eq!(
            parse("not_a_valid_arn").unwrap_err().message,
            "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'"
        );
        assert_eq!(
            parse("arn:aws:lambda:us-east-1:1:function:f")
                .unwrap_err()
                .code,
            "InvalidArn"
        );
        assert_eq!(
            parse("arn:aws:states:us-east-1:1:stateMachine:")
                .unwrap_err()
                .code,
            "InvalidArn"
        );
        assert_eq!(
            parse("arn:aws:states:us-east-1:1:bogus:x")
                .unwrap_err()
                .message,
            "Invalid Arn: 'Resource type not valid in this context: bogus'"
        );
    }

    #[test]
    fn an_action_rejects_the_wrong_resource_type() {
        let a = arns();
        let err = expect_state_machine(&a.execution("sm", "e"), Accept::ANY)
            .unwrap_err()
            .unwrap();
        assert_eq!(
            err.message,
            "Invalid Arn: 'Resource type not valid in this context: execution'"
        );
        assert_eq!(
            expect_state_machine(&a.version("sm", 1), Accept::UNQUALIFIED),
            Err(None)
        );
        assert_eq!(
            expect_state_machine(&a.version("sm", 1), Accept::WITH_VERSION),
            Ok(StateMachineRef::Version {
                name: "sm".into(),
                version: 1
            })
        );
        let labeled = expect_state_machine(&format!("{}/Map", a.state_machine("sm")), Accept::ANY)
            .unwrap_err()
            .unwrap();
        assert_eq!(labeled.code, "ValidationException");
        assert_eq!(expect_activity(&a.activity("x")).unwrap(), "x");
        assert!(expect_activity(&a.state_machine("x")).is_err());
        assert!(expect_execution(&a.execution("s", "e")).is_ok());
        assert!(expect_execution(&a.activity("x")).is_err());
        assert!(expect_standard_execution(&a.execution("s", "e")).is_ok());
        let express = expect_standard_execution(&a.express_execution("s", "e", "u"));
        assert_eq!(
            express.unwrap_err().message,
            "Invalid Arn: 'Resource type not valid in this context: express'"
        );
    }

    #[test]
    fn name_rules_follow_the_api_reference() {
        for ok in [
            "a",
            "my-machine_1.2",
            "Ünïcode",
            &"x".repeat(80),
            "(parens)",
            "a@b=c+d!",
        ] {
            assert!(is_valid_name(ok), "{ok:?}");
        }
        let bad = [
            "",
            "with space",
            "tab\there",
            "a<b",
            "a>b",
            "a{b",
            "a}b",
            "a[b",
            "a]b",
            "a?b",
            "a*b",
            "a\"b",
            "a#b",
            "a%b",
            "a\\b",
            "a^b",
            "a|b",
            "a~b",
            "a`b",
            "a$b",
            "a&b",
            "a,b",
            "a;b",
            "a:b",
            "a/b",
            "a\u{0}b",
            "a\u{1f}b",
            "a\u{7f}b",
            "a\u{9f}b",
        ];
        for name in bad {
            assert!(!is_valid_name(name), "{name:?}");
        }
        assert!(!is_valid_name(&"x".repeat(81)));
        assert_eq!(
            check_name("TestActivity InvalidName$").unwrap_err().message,
            "Invalid Name: 'TestActivity InvalidName$'"
        );
    }

    #[test]
    fn alias_names_need_a_non_digit() {
        assert!(is_valid_alias_name("PROD"));
        assert!(is_valid_alias_name("v1.2-beta_x"));
        assert!(!is_valid_alias_name("123"));
        assert!(!is_valid_alias_name("ALIAS@"));
        assert!(!is_valid_alias_name("INVALID ALIAS"));
        assert!(!is_valid_alias_name(""));
    }

    #[test]
    fn unqualified_strips_versions_and_aliases() {
        let a = arns();
        assert_eq!(
            Arns::unqualified(&a.version("sm", 2)),
            a.state_machine("sm")
        );
        assert_eq!(
            Arns::unqualified(&a.alias("sm", "P")),
            a.state_machine("sm")
        );
        assert_eq!(
            Arns::unqualified(&a.state_machine("sm")),
            a.state_machine("sm")
        );
    }
}
