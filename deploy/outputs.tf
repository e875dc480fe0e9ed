output "alb_dns_name" {
  description = "DNS name of the load balancer (point a CNAME/alias at it)."
  value       = aws_lb.main.dns_name
}

output "base_url" {
  description = "Base URL of the API through the load balancer."
  value       = "${var.certificate_arn == "" ? "http" : "https"}://${aws_lb.main.dns_name}"
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
  description = "Current task definition revision (service, scheduled jobs, one-off migrate)."
  value       = aws_ecs_task_definition.api.arn
}

output "task_definition_family" {
  value = aws_ecs_task_definition.api.family
}

output "container_name" {
  value = local.container_name
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
  value = jsonencode({
    awsvpcConfiguration = {
      subnets        = aws_subnet.private[*].id
      securityGroups = [aws_security_group.service.id]
      assignPublicIp = "DISABLED"
    }
  })
}
