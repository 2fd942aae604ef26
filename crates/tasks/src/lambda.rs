//! Lambda: `arn:aws:states:::lambda:invoke` and the direct `arn:aws:lambda:…:function:NAME` form,
//! run by a Lambda Invoke API endpoint or by a local command.

use serde_json::Value;

use crate::{CallContext, Integrations, Outcome};

impl Integrations {
    /// `arn:aws:states:::lambda:invoke`: `parameters` holds `FunctionName`, `Payload`, … The
    /// result is `{ExecutedVersion, Payload, StatusCode, SdkHttpMetadata, SdkResponseMetadata}`.
    pub async fn lambda_invoke(&self, parameters: &Value, ctx: &CallContext) -> Outcome {
        let _ = (parameters, ctx, &self.lambda_endpoint);
        Outcome::failed("States.Runtime", "Lambda is not built yet")
    }

    /// The direct form: `Resource` is the function's ARN and `payload` the effective
    /// parameters; the result is the function's answer itself.
    pub async fn lambda_function(
        &self,
        function_arn: &str,
        payload: &Value,
        ctx: &CallContext,
    ) -> Outcome {
        let _ = (function_arn, payload, ctx);
        Outcome::failed("States.Runtime", "Lambda is not built yet")
    }
}
