# A chain of aws_lambda_invocation resources that waits for one CodeDeploy
# deployment longer than one Lambda invocation can (15 minutes at most, also
# for synchronous invocations of durable functions).
#
# The first link creates the deployment; each next link attaches to it
# ({"deploymentId": ...} from the previous link's result). Every link but the
# last one has onDeadline = "return": near its deadline it returns
# {"complete": false, ...} instead of failing, and the next link carries on.
# The last link has onDeadline = "fail" (DeploymentWaitTimeout). A link that
# starts after the deployment ended, or after the milestone was met, returns
# at once, so unused links cost one short invocation each.
#
# Why four separate resources and not one resource with `count`: an instance
# of a counted resource cannot refer to another instance of the same resource
# (`aws_lambda_invocation.link[count.index - 1]`). `terraform validate`
# accepts that, and `terraform plan` then fails with "Error: Cycle". So each
# link is its own resource, switched on by `count`, and the chain has a fixed
# ceiling: local.max_links.
#
# lifecycle_scope stays CREATE_ONLY (the provider's default): a changed input
# replaces the link, destroy invokes nothing, and a link whose invocation
# failed is not saved in the state, so the next apply invokes it again
# (terraform-provider-aws internal/service/lambda/invocation.go: Create sets
# the id only after an invocation without FunctionError; with CREATE_ONLY an
# input change is ForceNew). See README.md for how a failed chain is retried.

locals {
  max_links = 4
  links     = ceil(var.max_wait_minutes / var.link_minutes)

  # Keys of var.deployment that every link needs: any link may be the one that
  # reports the failure (includeLogTails shapes that report).
  every_link = { for key in ["includeLogTails"] : key => var.deployment[key] if contains(keys(var.deployment), key) }

  # Control keys per link position (1-based). Only the last link fails on its
  # deadline, and only the last one may stop the deployment then.
  control = {
    for position in range(1, local.max_links + 1) : position => merge(local.every_link, {
      waitUntil     = var.wait_until
      onDeadline    = position < local.links ? "return" : "fail"
      stopOnTimeout = var.stop_on_timeout && position == local.links
    })
  }
}

resource "aws_lambda_invocation" "link_1" {
  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"
  triggers        = var.triggers

  input = jsonencode(merge(var.deployment, local.control[1]))

  lifecycle {
    precondition {
      condition     = local.links <= local.max_links
      error_message = "max_wait_minutes (${var.max_wait_minutes}) needs ${local.links} links of link_minutes (${var.link_minutes}); the chain has ${local.max_links}, so max_wait_minutes must be at most ${local.max_links * var.link_minutes}. For longer deployments create the deployment with wait = false and attach to it later."
    }
  }
}

# Links 2..4: attach to the deployment of link 1. After a link that met the
# milestone, wait = false: one GetDeployment, no waiting (with waitUntil =
# "Ready" the deployment may have moved on from Ready since, and a status
# read then could not tell that the milestone was already met).

resource "aws_lambda_invocation" "link_2" {
  count = local.links >= 2 ? 1 : 0

  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"

  input = jsonencode(merge(local.control[2], {
    deploymentId = jsondecode(aws_lambda_invocation.link_1.result).deploymentId
    wait         = !jsondecode(aws_lambda_invocation.link_1.result).complete
  }))
}

resource "aws_lambda_invocation" "link_3" {
  count = local.links >= 3 ? 1 : 0

  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"

  input = jsonencode(merge(local.control[3], {
    deploymentId = jsondecode(aws_lambda_invocation.link_2[0].result).deploymentId
    wait         = !jsondecode(aws_lambda_invocation.link_2[0].result).complete
  }))
}

resource "aws_lambda_invocation" "link_4" {
  count = local.links >= 4 ? 1 : 0

  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"

  input = jsonencode(merge(local.control[4], {
    deploymentId = jsondecode(aws_lambda_invocation.link_3[0].result).deploymentId
    wait         = !jsondecode(aws_lambda_invocation.link_3[0].result).complete
  }))
}

locals {
  # Raw results (JSON strings) of the links that exist, in order. Strings keep
  # one element type whatever keys each result has.
  link_results = [
    for result in [
      aws_lambda_invocation.link_1.result,
      one(aws_lambda_invocation.link_2[*].result),
      one(aws_lambda_invocation.link_3[*].result),
      one(aws_lambda_invocation.link_4[*].result),
    ] : result if result != null
  ]
  # The first link that met the milestone holds the answer; later links only
  # confirmed it. Without one (impossible after a successful apply) the last link.
  completed_results = [for result in local.link_results : result if jsondecode(result).complete]
  final_result      = concat(local.completed_results, [local.link_results[length(local.link_results) - 1]])[0]
}
