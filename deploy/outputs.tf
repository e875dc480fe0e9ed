output "alb_dns_name" {
  description = "DNS name of the load balancer (point a CNAME/alias at it)."
  value       = aws_lb.main.dns_name
}

output "base_url" {
  description = "Base URL of the API through the load balancer."
  value       = "${local.https_enabled ? "https" : "http"}://${aws_lb.main.dns_name}"
}

output "warning" {
  description = "Loud notice when the stack serves the API without TLS."
  value       = local.https_enabled ? "" : "WARNING: certificate_arn is empty: the API is served over PLAIN HTTP and API tokens cross the network in clear text. Port 80 is open only to plain_http_allowed_cidrs (${length(var.plain_http_allowed_cidrs) == 0 ? "none: nobody can reach the API" : join(", ", var.plain_http_allowed_cidrs)}). Set certificate_arn to serve HTTPS."
}

output "ecr_repository_url" {
  description = "Push images here: <url>:<git sha>."
  value       = aws_ecr_repository.api.repository_url
}

output "image" {
  description = "Image the task definition runs."
  value       = local.image
}

output "cluster_name" {
  value = aws_ecs_cluster.main.name
}

output "service_name" {
  value = aws_ecs_service.api.name
}

output "task_definition_arn" {
  description = "The service family's revision Terraform registered. CI registers newer ones: the family name always means the latest."
  value       = aws_ecs_task_definition.api.arn
}

output "task_definition_family" {
  description = "The API service's task definition family."
  value       = aws_ecs_task_definition.api.family
}

output "job_task_definition_family" {
  description = "Task definition family of one-off tasks (run-job, migrate): no port, no HTTP health check. Pass it to `aws ecs run-task --task-definition` (latest revision)."
  value       = aws_ecs_task_definition.job.family
}

output "container_name" {
  value = local.container_name
}

output "job_container_name" {
  description = "Container name in the job family (for --overrides)."
  value       = local.job_container_name
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies; subscribe pagers/chat here."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_url" {
  description = "The CloudWatch dashboard to open first."
  value       = "https://${var.aws_region}.console.aws.amazon.com/cloudwatch/home?region=${var.aws_region}#dashboards:name=${aws_cloudwatch_dashboard.main.dashboard_name}"
}

output "db_read_endpoint" {
  description = "Read replica endpoint (empty without db_read_replica)."
  value       = one(aws_db_instance.read[*].endpoint)
}

output "github_deploy_role_arn" {
  description = "Role the deploy workflow assumes (AWS_DEPLOY_ROLE_ARN). Null without github_repository."
  value       = one(aws_iam_role.github_deploy[*].arn)
}

output "github_actions_variables" {
  description = "Repository variables (Settings > Secrets and variables > Actions > Variables) .github/workflows/deploy.yml reads. None of them is a secret."
  value = {
    AWS_REGION                     = var.aws_region
    AWS_DEPLOY_ROLE_ARN            = one(aws_iam_role.github_deploy[*].arn)
    ECR_REPOSITORY_URL             = aws_ecr_repository.api.repository_url
    ECS_CLUSTER                    = aws_ecs_cluster.main.name
    ECS_SERVICE                    = aws_ecs_service.api.name
    ECS_SERVICE_FAMILY             = aws_ecs_task_definition.api.family
    ECS_JOB_FAMILY                 = aws_ecs_task_definition.job.family
    ECS_JOB_CONTAINER              = local.job_container_name
    RUN_TASK_NETWORK_CONFIGURATION = local.run_task_network_configuration
  }
}

output "private_subnet_ids" {
  description = "Subnets for one-off RunTask (migrate, run-job)."
  value       = aws_subnet.private[*].id
}

output "service_security_group_id" {
  description = "Security group for one-off RunTask (migrate, run-job)."
  value       = aws_security_group.service.id
}

output "log_group_name" {
  value = aws_cloudwatch_log_group.api.name
}

output "raw_bucket_name" {
  value = aws_s3_bucket.raw.bucket
}

output "db_endpoint" {
  description = "RDS endpoint host:port (private)."
  value       = aws_db_instance.main.endpoint
}

output "db_secret_arn" {
  description = "Secrets Manager secret holding the DB credentials (DB_PASSWORD is its 'password' key)."
  value       = aws_secretsmanager_secret.db.arn
}

output "notify_secret_arn" {
  description = "Secrets Manager secret holding NOTIFY_SECRET, the key receivers verify X-Catalog-Signature with (docs/runbook.md \"Notifications\")."
  value       = aws_secretsmanager_secret.notify.arn
}

output "api_token_parameter" {
  description = "SSM SecureString holding API_TOKEN. Read it with: aws ssm get-parameter --with-decryption --name <this>"
  value       = aws_ssm_parameter.api_token.name
}

output "task_role_arn" {
  value = aws_iam_role.task.arn
}

output "scheduled_jobs" {
  description = "job id => schedule name (in the schedule group below)."
  value       = { for id, s in aws_scheduler_schedule.run_job : id => s.name }
}

output "schedule_group" {
  value = aws_scheduler_schedule_group.jobs.name
}

output "run_task_network_configuration" {
  description = "Ready-made --network-configuration for `aws ecs run-task` (migrate, manual run-job)."
  value       = local.run_task_network_configuration
}

locals {
  run_task_network_configuration = jsonencode({
    awsvpcConfiguration = {
      subnets        = aws_subnet.private[*].id
      securityGroups = [aws_security_group.service.id]
      assignPublicIp = "DISABLED"
    }
  })
}

output "job_dlq_url" {
  description = "SQS queue of job tasks that could not be started (schedules and S3 events): read it when the job-dlq-depth alarm fires"
  value       = aws_sqs_queue.job_dlq.url
}

output "deep_health_check_id" {
  description = "Route 53 health check asking GET /health through the ALB (its alarm is in us-east-1)"
  value       = aws_route53_health_check.deep.id
}
