"""The logic behind the codedeploy-trigger Lambda functions.

``handlers/`` holds thin entry points; everything they share lives here, one
concept per module: the status vocabulary (:mod:`shared.status`), the input
contract (:mod:`shared.contract`, with the schema generated from CodeDeploy's model in
:mod:`shared.model_schema` and the hand-written rules in :mod:`shared.contract_rules`), the
CodeDeploy adapter
(:mod:`shared.codedeploy`), the DynamoDB store (:mod:`shared.status_store`) and
the waiting strategy (:mod:`shared.waiter`).
"""
