# Production settings: pass to every plan/apply, e.g.
#   terraform init -backend-config=examples/backend-production.hcl
#   terraform apply -var-file=examples/production.tfvars -var image_tag=<commit sha>
# Copy this file next to the stack (say environments/production.tfvars) and edit it.
environment       = "prod"
aws_region        = "eu-west-1"
certificate_arn   = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
alarm_email       = "oncall@example.com"
github_repository = "example-org/catalog-api" # creates the GitHub OIDC deploy role
github_branch     = "main"

desired_count = 2
min_capacity  = 2
max_capacity  = 8

db_instance_class = "db.t4g.medium"
db_multi_az       = true
db_read_replica   = false

single_nat_gateway = false # one NAT gateway per AZ: an AZ outage does not cut the other's egress

scheduled_jobs = {
  "acme-daily"    = "cron(15 3 * * ? *)" # 03:15 every day in schedule_timezone
  "globex-hourly" = "rate(1 hour)"
}
schedule_timezone = "Europe/Dublin"
