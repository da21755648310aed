//! Handing an apply run to the apply worker: `submit_apply` records the run as Pending, then an
//! `ApplySubmitter` delivers its id — `StateMachineSubmitter` starts an execution of the apply
//! state machine named after the run (deployed, design §10), `LambdaSubmitter` invokes the apply
//! function asynchronously (the whole apply in one invocation), `InProcessSubmitter` runs the same apply handler in a task of this process (tests,
//! and `cargo lambda watch`, which has no Lambda Invoke API for one function to reach another).
//!
//! Either way the worker is at-least-once: the apply handler ignores a run that is no longer
//! Pending, so a redelivery does nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use async_trait::async_trait;
use jiff::Timestamp;
use stackdock_store::{RunKind, RunRecord, RunStatus};
use tokio::task::JoinHandle;

use crate::{Deps, FunctionError};

/// A run could not be handed to the apply worker.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The Lambda Invoke call failed.
    #[error("invoking the apply function {function} for run {run_id} failed: {message}")]
    Invoke {
        function: String,
        run_id: String,
        message: String,
    },
    /// The StartExecution call failed.
    #[error("starting the apply state machine {state_machine} for run {run_id} failed: {message}")]
    StartExecution {
        state_machine: String,
        run_id: String,
        message: String,
    },
    /// The in-process submitter is not attached to live dependencies (a bug in the wiring).
    #[error("the in-process apply worker is not running; run {run_id} was not started")]
    Detached { run_id: String },
}

/// Delivers a Pending apply run's id to the apply worker.
#[async_trait]
pub trait ApplySubmitter: Send + Sync + std::fmt::Debug {
    async fn submit(&self, run_id: &str) -> Result<(), SubmitError>;

    /// Called once by `Deps::new` with the dependencies the worker may need (only the in-process
    /// worker does; holding them weakly avoids a reference cycle).
    fn bind(&self, _deps: Weak<Deps>) {}
}

/// Invokes the apply function asynchronously (`InvocationType::Event`) with `{"run_id": …}`:
/// Lambda queues the event and retries it on failure.
#[derive(Debug, Clone)]
pub struct LambdaSubmitter {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl LambdaSubmitter {
    pub fn new(sdk: &aws_config::SdkConfig, function: impl Into<String>) -> LambdaSubmitter {
        LambdaSubmitter::from_client(aws_sdk_lambda::Client::new(sdk), function)
    }

    pub fn from_client(
        client: aws_sdk_lambda::Client,
        function: impl Into<String>,
    ) -> LambdaSubmitter {
        LambdaSubmitter {
            client,
            function: function.into(),
        }
    }
}

#[async_trait]
impl ApplySubmitter for LambdaSubmitter {
    async fn submit(&self, run_id: &str) -> Result<(), SubmitError> {
        let payload = serde_json::json!({ "run_id": run_id }).to_string();
        self.client
            .invoke()
            .function_name(&self.function)
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload))
            .send()
            .await
            .map_err(|e| SubmitError::Invoke {
                function: self.function.clone(),
                run_id: run_id.to_owned(),
                message: aws_sdk_lambda::error::DisplayErrorContext(&e).to_string(),
            })?;
        tracing::info!(run_id, function = %self.function, "apply submitted");
        Ok(())
    }
}

/// The environment variable naming the apply state machine's ARN (the template's
/// `ApplyStateMachine`).
pub const APPLY_STATE_MACHINE_VAR: &str = "STACKDOCK_APPLY_STATE_MACHINE";

/// Starts an execution of the apply state machine named after the run, with `{"run_id": …}`:
/// Step Functions runs the apply in steps (`crate::applymachine`). Starting a standard workflow
/// again with the same name and input returns the running execution, so a retried submission
/// never starts a second apply of the run.
#[derive(Debug, Clone)]
pub struct StateMachineSubmitter {
    client: aws_sdk_sfn::Client,
    state_machine: String,
}

impl StateMachineSubmitter {
    pub fn new(sdk: &aws_config::SdkConfig, state_machine: impl Into<String>) -> Self {
        StateMachineSubmitter::from_client(aws_sdk_sfn::Client::new(sdk), state_machine)
    }

    pub fn from_client(client: aws_sdk_sfn::Client, state_machine: impl Into<String>) -> Self {
        StateMachineSubmitter {
            client,
            state_machine: state_machine.into(),
        }
    }
}

#[async_trait]
impl ApplySubmitter for StateMachineSubmitter {
    async fn submit(&self, run_id: &str) -> Result<(), SubmitError> {
        let input = serde_json::json!({ "run_id": run_id }).to_string();
        let started = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine)
            .name(run_id)
            .input(input)
            .send()
            .await
            .map_err(|e| SubmitError::StartExecution {
                state_machine: self.state_machine.clone(),
                run_id: run_id.to_owned(),
                message: aws_sdk_sfn::error::DisplayErrorContext(&e).to_string(),
            })?;
        tracing::info!(run_id, execution = %started.execution_arn(), "apply state machine started");
        Ok(())
    }
}

/// Runs the apply handler in a spawned task of this process. Used by tests and when no apply
/// function is configured (`cargo lambda watch`). Not for a deployed function: Lambda freezes the
/// process once the response is sent, so a background apply would stall.
#[derive(Debug, Default)]
pub struct InProcessSubmitter {
    deps: OnceLock<Weak<Deps>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl InProcessSubmitter {
    pub fn new() -> InProcessSubmitter {
        InProcessSubmitter::default()
    }

    /// Waits for every apply started so far (tests).
    pub async fn wait(&self) {
        loop {
            let tasks: Vec<JoinHandle<()>> = {
                let mut tasks = self
                    .tasks
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                std::mem::take(&mut *tasks)
            };
            if tasks.is_empty() {
                return;
            }
            for task in tasks {
                if let Err(e) = task.await {
                    tracing::error!(error = %e, "an in-process apply task panicked");
                }
            }
        }
    }
}

#[async_trait]
impl ApplySubmitter for InProcessSubmitter {
    async fn submit(&self, run_id: &str) -> Result<(), SubmitError> {
        let Some(deps) = self.deps.get().and_then(Weak::upgrade) else {
            return Err(SubmitError::Detached {
                run_id: run_id.to_owned(),
            });
        };
        let id = run_id.to_owned();
        let task = tokio::spawn(in_process(deps, id));
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(task);
        tracing::info!(run_id, "apply started in this process");
        Ok(())
    }

    fn bind(&self, deps: Weak<Deps>) {
        // Bound once by `Deps::new`; a second binding (one submitter shared by two Deps) keeps
        // the first, which is the one whose runs it was built for.
        let _ = self.deps.set(deps);
    }
}

/// One in-process delivery, boxed as `Send` here where every lifetime is concrete: the engine's
/// apply future is `Send`, but proving it inside `tokio::spawn`'s generic bound trips the
/// compiler's higher-ranked lifetime inference (rust-lang/rust#102211).
fn in_process(deps: Arc<Deps>, run_id: String) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        let request_id = format!("in-process-{}", uuid::Uuid::new_v4());
        if let Err(e) = crate::apply::run(&deps, &run_id, &request_id).await {
            tracing::error!(run_id = %run_id, error = %e, "in-process apply failed");
        }
    })
}

/// Records a Pending apply run for the plan with `plan_digest`, on behalf of `actor`, and submits
/// it; returns the run id. A submission that fails marks the run Failed (nobody will pick it up)
/// and returns the error.
pub async fn submit_apply(
    deps: &Deps,
    plan_digest: &str,
    actor: &str,
) -> Result<String, FunctionError> {
    submit_run(deps, "apply-", plan_digest, actor).await
}

/// The run-id prefix of the applies the sync submits to remove drift (`drift = "remediate"`):
/// how the sync finds its own earlier attempts among the stored runs.
pub const REMEDIATION_PREFIX: &str = "apply-remediation-";

/// Like [`submit_apply`], for the sync's drift remediation (its run id starts with
/// [`REMEDIATION_PREFIX`]).
pub async fn submit_remediation(
    deps: &Deps,
    plan_digest: &str,
    actor: &str,
) -> Result<String, FunctionError> {
    submit_run(deps, REMEDIATION_PREFIX, plan_digest, actor).await
}

async fn submit_run(
    deps: &Deps,
    prefix: &str,
    plan_digest: &str,
    actor: &str,
) -> Result<String, FunctionError> {
    let run_id = format!("{prefix}{}", uuid::Uuid::new_v4());
    let now = Timestamp::now();
    let mut run = RunRecord::new(&run_id, deps.org(), RunKind::Apply, actor, now);
    run.status = RunStatus::Pending;
    run.plan_digest = Some(plan_digest.to_owned());
    run.log(now, format!("submitted by {actor} for plan {plan_digest}"));
    deps.store.put_run(&run).await?;
    if let Err(e) = deps.submitter.submit(&run_id).await {
        tracing::error!(run_id = %run_id, error = %e, "apply submission failed");
        let now = Timestamp::now();
        run.status = RunStatus::Failed;
        run.error = Some(e.to_string());
        run.finished_at = Some(now);
        run.log(now, "not started: the apply worker could not be reached");
        if let Err(store_error) = deps.store.put_run(&run).await {
            tracing::error!(run_id = %run_id, error = %store_error, "marking the unsubmitted run failed also failed");
        }
        return Err(e.into());
    }
    Ok(run_id)
}
