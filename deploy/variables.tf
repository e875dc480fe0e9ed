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

variable "allowed_cidrs" {
  description = "CIDRs allowed to reach the load balancer over HTTPS (443, and port 80 which then only redirects). Used only when certificate_arn is set."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "plain_http_allowed_cidrs" {
  description = "CIDRs allowed to reach the API over plain HTTP (port 80 forwarding to the service) when certificate_arn is empty. Default: nobody. API tokens travel in clear text over plain HTTP: list only networks you trust (a VPN, an office), never 0.0.0.0/0 for a real deployment."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------------------
# Load balancer
# ---------------------------------------------------------------------------
variable "certificate_arn" {
  description = "ACM certificate ARN for the HTTPS listener (the normal case: 443 serves the API, 80 redirects to it). Empty = plain HTTP on port 80, reachable only from plain_http_allowed_cidrs, and the `warning` output says so."
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
  description = "Tag of the image in this stack's ECR repository: the git SHA CI pushed (the repository has immutable tags and only SHA tags are pushed). Required: there is no `latest`."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be an image tag CI pushed (the commit SHA), not empty and not \"latest\"."
  }
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
  description = "CPU units of the job task definition family (scheduled run-job tasks and the one-off migrate task)."
  type        = number
  default     = 1024
}

variable "job_task_memory" {
  description = "Memory in MiB of the job task definition family (must be valid for job_task_cpu)."
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

variable "notify_urls" {
  description = "NOTIFY_URLS: HTTPS webhook URLs told of every job's run ends (succeeded with changes, failed, cancelled; jobs add their own with options.notify). Signed with NOTIFY_SECRET (Secrets Manager, output notify_secret_arn). Empty: only the jobs' own."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for u in var.notify_urls : startswith(u, "https://") && !strcontains(u, ",")])
    error_message = "notify_urls: every URL must be https:// (plain http is for local use only) and contain no comma."
  }
}

variable "db_pool_size" {
  description = "DB_POOL_SIZE per task (request connections). Per task: pool + background pool (2 x JOB_WORKERS + 1) + 2 x JOB_WORKERS; total = tasks x that + scheduled jobs x 4; keep under the RDS max_connections (runbook, Connection budget)."
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

variable "db_read_replica" {
  description = "Create an RDS read replica and give the service DATABASE_READ_URL (a secret) and READ_MAX_LAG. The service sends GET /products* and /items* to it while it is within READ_MAX_LAG, else to the primary."
  type        = bool
  default     = false
}

variable "db_read_replica_instance_class" {
  description = "Instance class of the read replica. Empty = same as db_instance_class."
  type        = string
  default     = ""
}

variable "read_max_lag_seconds" {
  description = "READ_MAX_LAG: a replica lagging more than this many seconds is skipped (reads go to the primary). Also the replica-lag alarm threshold."
  type        = number
  default     = 5
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

variable "s3_event_prefixes" {
  description = "Key prefixes in the raw bucket whose new objects start `catalog-api run-object` (partners' drop folders; not raw/partners/*/feeds/, which POST /feeds queues itself)"
  type        = list(string)
  default     = ["partners/"]
  validation {
    condition     = length(var.s3_event_prefixes) > 0 && alltrue([for p in var.s3_event_prefixes : !startswith(p, "raw/partners/")])
    error_message = "Give at least one prefix; raw/partners/ holds API uploads, whose runs the API queues itself."
  }
}

variable "s3_events_enabled" {
  description = "Run jobs when their files land in the raw bucket (the S3 Object Created rule)"
  type        = bool
  default     = true
}

variable "health_check_fqdn" {
  description = "Host name the external deep health check asks GET /health on (default: the ALB's DNS name)"
  type        = string
  default     = ""
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

# ---------------------------------------------------------------------------
# Monitoring (monitoring.tf)
# ---------------------------------------------------------------------------
variable "alarm_email" {
  description = "E-mail address subscribed to the alarm SNS topic (the address must confirm the subscription). Empty = no subscription; subscribe a pager/chat endpoint to the `alarm_topic_arn` output instead."
  type        = string
  default     = ""
}

variable "alarm_5xx_per_minute" {
  description = "Alarm when the ALB or the targets answer more than this many 5xx per minute, 3 minutes in a row."
  type        = number
  default     = 5
}

variable "alarm_latency_p99_seconds" {
  description = "Alarm when the targets' p99 response time exceeds this many seconds, 3 of 5 minutes."
  type        = number
  default     = 1
}

variable "alarm_db_cpu_percent" {
  description = "Alarm when RDS CPU stays above this percentage for 15 minutes."
  type        = number
  default     = 80
}

variable "alarm_db_free_storage_gib" {
  description = "Alarm when RDS free storage falls below this many GiB (storage autoscaling should have grown it first)."
  type        = number
  default     = 5
}

variable "alarm_db_connections" {
  description = "Alarm when RDS connections exceed this count (tasks x (DB_POOL_SIZE + 4 x JOB_WORKERS + 1) + scheduled jobs x 4 must stay below max_connections; db.t4g.medium allows about 400)."
  type        = number
  default     = 300
}

# ---------------------------------------------------------------------------
# CI/CD (github.tf)
# ---------------------------------------------------------------------------
variable "github_repository" {
  description = "owner/name of the GitHub repository whose workflow deploys this stack. Empty = no deploy role."
  type        = string
  default     = ""

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "github_branch" {
  description = "The only branch whose workflow runs may assume the deploy role."
  type        = string
  default     = "main"
}

variable "github_oidc_provider_arn" {
  description = "ARN of an existing IAM OIDC provider for token.actions.githubusercontent.com (one per account). Empty = this stack creates it."
  type        = string
  default     = ""
}
