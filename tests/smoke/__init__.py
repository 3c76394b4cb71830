"""`make aws-smoke`: the module and a real deployment in an AWS account, then nothing left."""
