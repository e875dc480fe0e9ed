# catalog-api on AWS: VPC, ALB, ECS Fargate service + scheduled run-job tasks,
# RDS PostgreSQL 15 (+ optional read replica), the raw-feed S3 bucket, ECR,
# IAM (incl. the GitHub Actions deploy role), CloudWatch Logs, alarms and a
# dashboard.
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
    http = {
      source  = "hashicorp/http"
      version = "~> 3.4"
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

# Route 53 health-check metrics exist only in us-east-1 (events.tf).
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

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

  tmpdir = "/var/tmp/catalog" # the image's TMPDIR (docker/Dockerfile)

  # POST /jobs/{id}/run?wait=true holds a request this long (WAIT_TIMEOUT).
  # The target group's deregistration delay outlasts it (alb.tf), so a deploy
  # or scale-in lets such a request finish before ECS sends SIGTERM.
  wait_timeout_seconds = 50
  container_name       = "api"
  job_container_name   = "job"
  container_port       = 8000

  # HTTPS is the normal way to run this stack; without a certificate port 80
  # serves in clear text to plain_http_allowed_cidrs only.
  https_enabled = var.certificate_arn != ""

  raw_bucket_name = var.raw_bucket_name != "" ? var.raw_bucket_name : "${local.name}-raw-${local.account_id}"

  # The image to run: an explicit URI wins (e.g. a digest pinned by CI),
  # otherwise <this stack's ECR repository>:<image_tag>.
  image = var.image != "" ? var.image : "${aws_ecr_repository.api.repository_url}:${var.image_tag}"

  # Plain (non-secret) environment of the container, docs/runbook.md "Configuration".
  # Secrets never go here: DB_PASSWORD, API_TOKEN, NOTIFY_SECRET (and DATABASE_READ_URL with
  # a replica) are injected through `secrets`/`valueFrom` (ecs.tf), resolved by
  # the ECS agent with the execution role. deploy/task-definition.json lists
  # exactly these names (tests/deploy/check_deploy.py compares them).
  container_environment = merge(local.base_environment, local.read_replica_environment)

  # Only with var.db_read_replica: list reads go to the replica while it is within READ_MAX_LAG.
  read_replica_environment = var.db_read_replica ? { READ_MAX_LAG = tostring(var.read_max_lag_seconds) } : {}

  base_environment = {
    PORT               = tostring(local.container_port)
    DB_HOST            = aws_db_instance.main.address
    DB_PORT            = tostring(aws_db_instance.main.port)
    DB_NAME            = var.db_name
    DB_USER            = var.db_username
    DB_POOL_SIZE       = tostring(var.db_pool_size)
    S3_RAW_BUCKET      = aws_s3_bucket.raw.bucket
    AWS_REGION         = var.aws_region
    AWS_DEFAULT_REGION = var.aws_region
    LOG_LEVEL          = var.log_level
    LOG_FORMAT         = "json"
    JOB_WORKERS        = tostring(var.job_workers)
    HTTP_THREADS       = tostring(var.http_threads)
    MAX_BODY_BYTES     = tostring(var.max_body_bytes)
    MAX_FEED_BYTES     = tostring(var.max_feed_bytes)
    SHUTDOWN_TIMEOUT   = tostring(var.shutdown_timeout_seconds)
    TMPDIR             = local.tmpdir # spill files; a mounted volume, see ecs.tf
    WAIT_TIMEOUT       = tostring(local.wait_timeout_seconds)
    # Webhooks every job's run ends are POSTed to (with each job's options.notify).
    NOTIFY_URLS = join(",", var.notify_urls)
    # Keep-alive idle timeout must outlast the ALB's, or the ALB can reuse a
    # connection the server is closing and answer 502.
    IDLE_TIMEOUT = tostring(var.alb_idle_timeout + 5)
    # Every connection comes from the ALB, which appends the client's address
    # to X-Forwarded-For: per-client shares count that address, not the ALB's.
    TRUST_X_FORWARDED_FOR = "true"
    # libpq: TLS only, the server's certificate and host name checked against
    # the region's RDS CA bundle (rds.tf); never in clear text, never to an impostor.
    PGSSLMODE            = "verify-full"
    DB_SSL_ROOT_CERT_PEM = data.http.rds_ca_bundle.response_body
  }
}
