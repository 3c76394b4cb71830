# A caller of the chain with the Ready gate, for tests/chain.tftest.hcl: its check reads the
# module's output `ready` and feeds the module's input `ready_check`. Terraform plans it
# without "Error: Cycle" because a module's inputs and outputs are separate graph nodes.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

module "deploy" {
  source = "../.."

  function_name = "cdt-trigger"
  deployment    = { applicationName = "web", deploymentGroupName = "web-prod" }
  ready_gate    = true
  ready_check   = terraform_data.smoke_test.output
}

resource "terraform_data" "smoke_test" {
  input = module.deploy.ready.deploymentId

  provisioner "local-exec" {
    command = "true"
  }
}
