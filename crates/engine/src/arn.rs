//! Step Functions ARNs as types: an execution's and a state machine's ARN, parsed once where
//! they enter and read through accessors, so no crate splits ARN text on `:` itself. (What
//! the API answers for an ARN it refuses is the service's business: `stepwise_service::arn`.)

use std::fmt;

/// `arn:PARTITION:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME`, or an Express
/// execution's `arn:PARTITION:states:REGION:ACCOUNT:express:STATE_MACHINE:NAME:ID`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExecutionArn {
    text: String,
    region: String,
    account: String,
    state_machine: String,
    name: String,
    express: bool,
}

impl ExecutionArn {
    /// The ARN `text` names an execution; `None` when it is not one.
    pub fn parse(text: &str) -> Option<ExecutionArn> {
        let fields: Vec<&str> = text.split(':').collect();
        let (region, account) = states_arn(&fields)?;
        let express = match (fields[5], fields.len()) {
            ("execution", 8) => false,
            ("express", 9) => true,
            _ => return None,
        };
        let (state_machine, name) = (fields[6], fields[7]);
        if state_machine.is_empty() || name.is_empty() {
            return None;
        }
        Some(ExecutionArn {
            text: text.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            state_machine: state_machine.to_owned(),
            name: name.to_owned(),
            express,
        })
    }

    /// A Standard execution's ARN.
    pub fn standard(region: &str, account: &str, state_machine: &str, name: &str) -> ExecutionArn {
        ExecutionArn {
            text: format!("arn:aws:states:{region}:{account}:execution:{state_machine}:{name}"),
            region: region.to_owned(),
            account: account.to_owned(),
            state_machine: state_machine.to_owned(),
            name: name.to_owned(),
            express: false,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// The name of the state machine it runs (without version or alias).
    pub fn state_machine_name(&self) -> &str {
        &self.state_machine
    }

    /// The execution's own name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_express(&self) -> bool {
        self.express
    }
}

impl fmt::Display for ExecutionArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME`, optionally qualified with a
/// version number or an alias name (`...:NAME:3`, `...:NAME:prod`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateMachineArn {
    text: String,
    region: String,
    account: String,
    name: String,
    qualifier: Option<String>,
}

impl StateMachineArn {
    /// The ARN `text` names a state machine, a version or an alias; `None` otherwise.
    pub fn parse(text: &str) -> Option<StateMachineArn> {
        let fields: Vec<&str> = text.split(':').collect();
        let (region, account) = states_arn(&fields)?;
        if fields[5] != "stateMachine" || !(7..=8).contains(&fields.len()) || fields[6].is_empty() {
            return None;
        }
        let qualifier = fields.get(7).map(|q| (*q).to_owned());
        if qualifier.as_deref() == Some("") {
            return None;
        }
        Some(StateMachineArn {
            text: text.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            name: fields[6].to_owned(),
            qualifier,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// The state machine's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version number or alias name, for a qualified ARN.
    pub fn qualifier(&self) -> Option<&str> {
        self.qualifier.as_deref()
    }
}

impl fmt::Display for StateMachineArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The region and account of an `arn:PARTITION:states:REGION:ACCOUNT:TYPE:...` ARN.
fn states_arn<'a>(fields: &[&'a str]) -> Option<(&'a str, &'a str)> {
    match fields {
        ["arn", partition, "states", region, account, _, _, ..]
            if !partition.is_empty() && !region.is_empty() && !account.is_empty() =>
        {
            Some((region, account))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_arns_standard_and_express() {
        let a = ExecutionArn::parse("arn:aws:states:eu-west-1:111122223333:execution:orders:run-1")
            .expect("standard");
        assert_eq!(
            (a.region(), a.account(), a.state_machine_name(), a.name()),
            ("eu-west-1", "111122223333", "orders", "run-1")
        );
        assert!(!a.is_express());
        assert_eq!(
            ExecutionArn::standard("eu-west-1", "111122223333", "orders", "run-1"),
            a
        );
        let e = ExecutionArn::parse(
            "arn:aws:states:us-east-1:123456789012:express:quick:run-2:0f6c2b0e-6d8b-4d5e-9c3a-1b2c3d4e5f60",
        )
        .expect("express");
        assert!(e.is_express());
        assert_eq!((e.state_machine_name(), e.name()), ("quick", "run-2"));
        for bad in [
            "",
            "arn:aws:states:us-east-1:123456789012:stateMachine:orders",
            "arn:aws:states:us-east-1:123456789012:execution:orders",
            "arn:aws:states:us-east-1:123456789012:execution::run",
            "arn:aws:lambda:us-east-1:123456789012:execution:orders:run",
            "arn:aws:states::123456789012:execution:orders:run",
        ] {
            assert_eq!(ExecutionArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn state_machine_arns_with_and_without_a_qualifier() {
        let m = StateMachineArn::parse("arn:aws:states:us-east-1:123456789012:stateMachine:orders")
            .expect("unqualified");
        assert_eq!((m.name(), m.qualifier()), ("orders", None));
        let v =
            StateMachineArn::parse("arn:aws:states:us-east-1:123456789012:stateMachine:orders:7")
                .expect("version");
        assert_eq!((v.name(), v.qualifier()), ("orders", Some("7")));
        assert_eq!(
            v.to_string(),
            "arn:aws:states:us-east-1:123456789012:stateMachine:orders:7"
        );
        for bad in [
            "arn:aws:states:us-east-1:123456789012:stateMachine:",
            "arn:aws:states:us-east-1:123456789012:stateMachine:orders:",
            "arn:aws:states:us-east-1:123456789012:activity:orders",
            "orders",
        ] {
            assert_eq!(StateMachineArn::parse(bad), None, "{bad}");
        }
    }
}
