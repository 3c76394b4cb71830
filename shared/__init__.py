"""The logic behind the codedeploy-trigger Lambda functions.

``handlers/`` holds thin entry points; everything they share lives here, one
concept per module: the status vocabulary (:mod:`shared.status`), the input
contract (:mod:`shared.contract`), the CodeDeploy adapter
(:mod:`shared.codedeploy`), the DynamoDB store (:mod:`shared.status_store`) and
the waiting strategy (:mod:`shared.waiter`).
"""
