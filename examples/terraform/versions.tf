# No provider block: the caller configures the aws provider, so this folder
# works both as a root module (add a provider or use the environment) and as
# a child module (module "trigger" { source = ".../examples/terraform" }).
terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60" # data "aws_service_principal" (5.60.0)
    }
  }
}
