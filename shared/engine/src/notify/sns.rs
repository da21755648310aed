//! The SNS channel: one `Publish` of the message to the stack's topic (`sns = true`), whose ARN
//! the template passes in [`TOPIC_VAR`]. Email, Slack (through AWS Chatbot) or anything else
//! subscribes to the topic. Owns no retry beyond the SDK's own and no state: a publish that fails
//! or hangs is the caller's warning (`notify::send`), never a failed sync or apply.

use async_trait::async_trait;
use aws_sdk_sns::error::{ProvideErrorMetadata as _, SdkError};

use super::{Channel, SEND_TIMEOUT};

/// The environment variable with the topic's ARN (the template's `NotifyTopic`).
pub const TOPIC_VAR: &str = "STACKDOCK_NOTIFY_TOPIC_ARN";

/// SNS's longest `Subject` (email subscribers see it as the subject line).
const SUBJECT_MAX: usize = 100;

/// The stack's SNS topic.
#[derive(Debug, Clone)]
pub struct Sns {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl Sns {
    /// The topic `topic_arn` through a client of `sdk` (its region, credentials and endpoint:
    /// `AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_SNS` point it at moto), each publish bounded by
    /// [`SEND_TIMEOUT`].
    pub fn new(sdk: &aws_config::SdkConfig, topic_arn: &str) -> Sns {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(3))
            .operation_timeout(SEND_TIMEOUT)
            .build();
        let config = aws_sdk_sns::config::Builder::from(sdk)
            .timeout_config(timeouts)
            .build();
        Sns {
            client: aws_sdk_sns::Client::from_conf(config),
            topic_arn: topic_arn.trim().to_owned(),
        }
    }

    /// The topic named by `lookup(TOPIC_VAR)`, through a client of `sdk`; `None` when the
    /// variable is unset or empty.
    pub fn from_lookup(
        sdk: &aws_config::SdkConfig,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Option<Sns> {
        lookup(TOPIC_VAR)
            .filter(|arn| !arn.trim().is_empty())
            .map(|arn| Sns::new(sdk, &arn))
    }

    /// The topic of this process's environment ([`TOPIC_VAR`]), with the AWS configuration of
    /// the environment loaded only when the variable is set (the CLI).
    pub async fn from_env() -> Option<Sns> {
        let arn = std::env::var(TOPIC_VAR)
            .ok()
            .filter(|arn| !arn.trim().is_empty())?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Some(Sns::new(&sdk, &arn))
    }

    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// Why `sns = true` sends nothing from this process: [`TOPIC_VAR`] is not set.
    pub fn unset_message() -> String {
        format!(
            "`sns = true` in `[notify]`, but {TOPIC_VAR} is not set, so nothing is published to the SNS topic; set it to the stack's `NotifyTopicArn` output (`aws cloudformation describe-stacks --stack-name <stack> --query \"Stacks[0].Outputs[?OutputKey=='NotifyTopicArn'].OutputValue\" --output text`)"
        )
    }
}

/// The subject line of `text`: its first line, ASCII printable, at most [`SUBJECT_MAX`] bytes.
fn subject(text: &str) -> String {
    let first = text.lines().next().unwrap_or("StackDock");
    let mut out: String = first
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    out.truncate(SUBJECT_MAX);
    out
}

#[async_trait]
impl Channel for Sns {
    fn name(&self) -> &'static str {
        "sns"
    }

    async fn send(&self, text: &str) -> Result<(), String> {
        let published = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject(text))
            .message(text)
            .send()
            .await;
        match published {
            Ok(_) => Ok(()),
            Err(SdkError::TimeoutError(_)) => Err(format!(
                "the SNS topic {} did not answer within {}s",
                self.topic_arn,
                SEND_TIMEOUT.as_secs()
            )),
            Err(SdkError::DispatchFailure(_)) => Err(format!(
                "SNS could not be reached to publish to {}",
                self.topic_arn
            )),
            Err(e) => Err(format!(
                "publishing to {} failed: {} ({}); the functions' role needs sns:Publish on the topic",
                self.topic_arn,
                e.code().unwrap_or("unknown error"),
                e.message().unwrap_or("no message")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_is_the_first_line_ascii_and_short() {
        assert_eq!(
            subject("StackDock (acme): 2 new occurrences\n• drift: …"),
            "StackDock (acme): 2 new occurrences"
        );
        assert_eq!(subject("Stäck\tx"), "St?ck?x");
        assert_eq!(subject(&"x".repeat(300)).len(), SUBJECT_MAX);
    }
}
