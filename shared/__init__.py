"""The logic behind the codedeploy-trigger Lambda functions.

``handlers/`` holds thin entry points; everything they share lives here, one
concept per module: the status vocabulary (:mod:`shared.status`), the input
contract (:mod:`shared.contract.request`, with the schema generated from CodeDeploy's model in
:mod:`shared.contract.model_schema` and the hand-written rules in :mod:`shared.contract.rules`), the
CodeDeploy adapter
(:mod:`shared.adapters.codedeploy`), the DynamoDB store (:mod:`shared.adapters.status_store`) and
the waiting strategy (:mod:`shared.trigger.waiter`).
"""
