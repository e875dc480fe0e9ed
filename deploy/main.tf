# catalog-api on AWS: VPC, ALB, ECS Fargate service + scheduled run-job tasks,
# RDS PostgreSQL 15, the raw-feed S3 bucket, ECR, IAM, CloudWatch Logs.
# See README.md in this directory for how to apply it.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # State holds the generated DB password and API token: keep it in an
  # encrypted, access-controlled backend. Configure with
  #   terraform init -backend-config=backend.hcl
  # (bucket, key, region, dynamodb_table or use_lockfile, encrypt = true).
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.tags
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
  # Local Zones / Wavelength zones cannot host this stack.
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  azs        = slice(data.aws_availability_zones.available.names, 0, 2)

  tags = merge(
    {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    },
    var.extra_tags,
  )

  container_name = "api"
  container_port = 8000

  raw_bucket_name = var.raw_bucket_name != "" ? var.raw_bucket_name : "${local.name}-raw-${local.account_id}"

  # The image to run: an explicit URI wins (e.g. a digest pinned by CI),
  # otherwise <this stack's ECR repository>:<image_tag>.
  image = var.image != "" ? var.image : "${aws_ecr_repository.api.repository_url}:${var.image_tag}"

  # Plain (non-secret) environment of the container, docs/runbook.md "Configuration".
  # DB_PASSWORD and API_TOKEN are injected from Secrets Manager / SSM (ecs.tf).
  container_environment = {
    PORT                = tostring(local.container_port)
    DB_HOST             = aws_db_instance.main.address
    DB_PORT             = tostring(aws_db_instance.main.port)
    DB_NAME             = var.db_name
    DB_USER             = var.db_username
    DB_POOL_SIZE        = tostring(var.db_pool_size)
    PGSSLMODE           = "require" # libpq: never talk to RDS in clear text
    S3_RAW_BUCKET       = aws_s3_bucket.raw.bucket
    AWS_REGION          = var.aws_region
    AWS_DEFAULT_REGION  = var.aws_region
    LOG_LEVEL           = var.log_level
    LOG_FORMAT          = "json"
    JOB_WORKERS         = tostring(var.job_workers)
    HTTP_THREADS        = tostring(var.http_threads)
    MAX_BODY_BYTES      = tostring(var.max_body_bytes)
    MAX_FEED_BYTES      = tostring(var.max_feed_bytes)
    SHUTDOWN_TIMEOUT    = tostring(var.shutdown_timeout_seconds)
    # Keep-alive idle timeout must outlast the ALB's, or the ALB can reuse a
    # connection the server is closing and answer 502.
    IDLE_TIMEOUT = tostring(var.alb_idle_timeout + 5)
  }
}
