# Staging: the same stack, smaller and cheaper, in the same account or another.
# Its own state (examples/backend-staging.hcl) and its own environment name, so
# every resource name differs from production's (catalog-api-staging-*).
environment       = "staging"
aws_region        = "eu-west-1"
certificate_arn   = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-1111-1111-1111-111111111111"
alarm_email       = "team@example.com"
github_repository = "example-org/catalog-api"
github_branch     = "staging" # the staging deploy role trusts pushes to this branch only
# An account that already has GitHub's OIDC provider (created by production's
# stack when both share an account): pass its ARN instead of creating a second.
# github_oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"

desired_count = 1
min_capacity  = 1
max_capacity  = 2

db_instance_class       = "db.t4g.small"
db_multi_az             = false
db_deletion_protection  = false
db_skip_final_snapshot  = true
alb_deletion_protection = false

single_nat_gateway = true

schedules_enabled = false # load by hand or through S3 events only
scheduled_jobs    = {}
