"""The tags the Heat resource plugin writes on every alarm it makes: which stack and which
resource of it made the alarm, and the stack's stack user project (where the EC2 keys Heat
hands to the stack's servers live; see ``cfn_gateway.auth.stack_users``)."""

TAG_STACK_ID = "heat-stack-id"
TAG_LOGICAL_ID = "heat-logical-id"
TAG_STACK_USER_PROJECT = "heat-stack-user-project"
