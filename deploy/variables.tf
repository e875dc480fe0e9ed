# ---------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------
variable "project" {
  description = "Name prefix for every resource."
  type        = string
  default     = "catalog-api"
}

variable "environment" {
  description = "Environment name (prod, staging, ...); part of every resource name."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z0-9-]{1,16}$", var.environment))
    error_message = "environment must be 1-16 characters of a-z, 0-9 and '-'."
  }
}

variable "aws_region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "extra_tags" {
  description = "Additional tags for every resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------
variable "vpc_cidr" {
  description = "CIDR of the VPC; split into 2 public and 2 private /20 subnets."
  type        = string
  default     = "10.40.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs (cheaper; an AZ outage then also cuts the other AZ's egress). false = one per AZ."
  type        = bool
  default     = false
}

variable "alb_ingress_cidrs" {
  description = "CIDRs allowed to reach the load balancer on 80/443."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

# ---------------------------------------------------------------------------
# Load balancer
# ---------------------------------------------------------------------------
variable "certificate_arn" {
  description = "ACM certificate ARN for the HTTPS listener. Empty = HTTP only (port 80 forwards to the service). Set = port 80 redirects to 443."
  type        = string
  default     = ""
}

variable "alb_idle_timeout" {
  description = "ALB idle timeout in seconds. Bounds how long `POST /jobs/{id}/run?wait=true` can block through the ALB."
  type        = number
  default     = 120
}

variable "alb_deletion_protection" {
  description = "Protect the ALB from deletion."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------
# Image and task size
# ---------------------------------------------------------------------------
variable "image_tag" {
  description = "Tag of the image in this stack's ECR repository (e.g. the git SHA). The repository has immutable tags."
  type        = string
  default     = "latest"
}

variable "image" {
  description = "Full image URI overriding <ecr repo>:<image_tag>, e.g. a digest-pinned reference. Empty = use image_tag."
  type        = string
  default     = ""
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64: must match the platform the image was built for."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "task_cpu" {
  description = "Fargate task CPU units (256, 512, 1024, 2048, 4096)."
  type        = number
  default     = 1024
}

variable "task_memory" {
  description = "Fargate task memory in MiB (must be valid for task_cpu)."
  type        = number
  default     = 2048
}

variable "job_task_cpu" {
  description = "CPU units for scheduled run-job tasks (same task definition family; override at RunTask)."
  type        = number
  default     = 1024
}

variable "job_task_memory" {
  description = "Memory in MiB for scheduled run-job tasks."
  type        = number
  default     = 2048
}

# ---------------------------------------------------------------------------
# Service scaling
# ---------------------------------------------------------------------------
variable "desired_count" {
  description = "Initial number of API tasks (autoscaling adjusts it afterwards; Terraform does not fight it)."
  type        = number
  default     = 2
}

variable "min_capacity" {
  description = "Autoscaling minimum number of tasks. Keep >= 2 for one task per AZ."
  type        = number
  default     = 2
}

variable "max_capacity" {
  description = "Autoscaling maximum number of tasks."
  type        = number
  default     = 6
}

variable "cpu_target_percent" {
  description = "Target average CPU utilisation (%) for target-tracking scaling."
  type        = number
  default     = 60
}

variable "requests_per_target" {
  description = "Target ALB requests per task per minute (ALBRequestCountPerTarget)."
  type        = number
  default     = 1000
}

variable "health_check_grace_period" {
  description = "Seconds ECS ignores ALB health checks after a task starts (covers migrations at start-up)."
  type        = number
  default     = 60
}

# ---------------------------------------------------------------------------
# Application settings (container environment, docs/runbook.md "Configuration")
# ---------------------------------------------------------------------------
variable "log_level" {
  description = "LOG_LEVEL: trace, debug, info, warn, error."
  type        = string
  default     = "info"
}

variable "db_pool_size" {
  description = "DB_POOL_SIZE per task. Total connections = tasks x pool + scheduled jobs; keep under the RDS max_connections."
  type        = number
  default     = 10
}

variable "job_workers" {
  description = "JOB_WORKERS: in-process ETL workers per API task."
  type        = number
  default     = 2
}

variable "http_threads" {
  description = "HTTP_THREADS: I/O threads per task. Match the task's vCPUs."
  type        = number
  default     = 2
}

variable "max_body_bytes" {
  description = "MAX_BODY_BYTES: JSON request body limit."
  type        = number
  default     = 1048576
}

variable "max_feed_bytes" {
  description = "MAX_FEED_BYTES: size limit of one POST /feeds upload."
  type        = number
  default     = 1073741824
}

variable "shutdown_timeout_seconds" {
  description = "SHUTDOWN_TIMEOUT: drain budget after SIGTERM. Must stay below the container stopTimeout (30 s)."
  type        = number
  default     = 25

  validation {
    condition     = var.shutdown_timeout_seconds > 0 && var.shutdown_timeout_seconds < 30
    error_message = "shutdown_timeout_seconds must be between 1 and 29 (ECS stopTimeout is 30 s)."
  }
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention for the service and job logs."
  type        = number
  default     = 30
}

# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------
variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_storage" {
  description = "Initial storage in GiB."
  type        = number
  default     = 50
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
  default     = 500
}

variable "db_multi_az" {
  description = "Multi-AZ standby for RDS."
  type        = bool
  default     = true
}

variable "db_name" {
  description = "Database name (DB_NAME)."
  type        = string
  default     = "catalog"
}

variable "db_username" {
  description = "Master user name (DB_USER). The password is generated and stored in Secrets Manager."
  type        = string
  default     = "catalog"
}

variable "db_backup_retention_days" {
  description = "Automated backup retention (days)."
  type        = number
  default     = 14
}

variable "db_skip_final_snapshot" {
  description = "Skip the final snapshot when the database is destroyed. Keep false in production."
  type        = bool
  default     = false
}

variable "db_deletion_protection" {
  description = "Protect the database from deletion."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------
# S3 raw bucket
# ---------------------------------------------------------------------------
variable "raw_bucket_name" {
  description = "Name of the raw-feed bucket. Empty = <project>-<environment>-raw-<account id>."
  type        = string
  default     = ""
}

variable "raw_noncurrent_version_days" {
  description = "Days to keep overwritten/deleted (noncurrent) versions of raw feed objects."
  type        = number
  default     = 90
}

# ---------------------------------------------------------------------------
# Scheduled jobs
# ---------------------------------------------------------------------------
variable "scheduled_jobs" {
  description = <<-EOT
    Map of job id => EventBridge Scheduler expression. Each entry runs a one-off
    Fargate task `catalog-api run-job <job id>` on that schedule, e.g.
      { "acme-daily" = "cron(15 3 * * ? *)", "globex-hourly" = "rate(1 hour)" }
    The job must exist (PUT /jobs/<id>) before its first scheduled run.
  EOT
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for id in keys(var.scheduled_jobs) : can(regex("^[a-z0-9][a-z0-9-]{0,62}$", id))])
    error_message = "scheduled_jobs keys must be job ids: [a-z0-9][a-z0-9-]{0,62}."
  }

  validation {
    condition     = alltrue([for e in values(var.scheduled_jobs) : can(regex("^(cron|rate|at)\\(.+\\)$", e))])
    error_message = "scheduled_jobs values must be Scheduler expressions: cron(...), rate(...) or at(...)."
  }
}

variable "schedule_timezone" {
  description = "IANA time zone the cron expressions are evaluated in."
  type        = string
  default     = "UTC"
}

variable "schedules_enabled" {
  description = "Set false to pause every scheduled run-job without deleting the schedules."
  type        = bool
  default     = true
}
