# RDS PostgreSQL 15 in the private subnets, reachable only from the service
# security group, encrypted, with its password in Secrets Manager; optionally a
# read replica (var.db_read_replica).

# The password is generated here and stored in Secrets Manager, which ECS
# injects as DB_PASSWORD. It is deliberately NOT the RDS-managed master secret
# (manage_master_user_password): that one rotates every 7 days by default, and
# catalog-api reads DB_PASSWORD once at start-up, so after a rotation every new
# connection (pool growth, reconnect after a DB blip) would fail until the next
# deployment. Rotation is an explicit runbook step instead (docs/runbook.md).
# The password is in Terraform state: keep the state backend encrypted.
resource "random_password" "db" {
  length           = 40
  special          = true
  override_special = "-_.~" # URL-unreserved only: safe unescaped in a libpq URL or conninfo
}

resource "aws_secretsmanager_secret" "db" {
  name                    = "${var.project}/${var.environment}/db"
  description             = "catalog-api PostgreSQL credentials (JSON: username, password, host, port, dbname)"
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id = aws_secretsmanager_secret.db.id
  secret_string = jsonencode({
    username = var.db_username
    password = random_password.db.result
    host     = aws_db_instance.main.address
    port     = aws_db_instance.main.port
    dbname   = var.db_name
  })

  # The runbook rotates the password outside Terraform (RDS + this secret's
  # `password` key): an apply must not put the old generated one back.
  lifecycle {
    ignore_changes = [secret_string]
  }
}

# The CA bundle that signs this region's RDS certificates, handed to the tasks
# as text (DB_SSL_ROOT_CERT_PEM, main.tf): every connection verifies the
# server's certificate and host name (PGSSLMODE=verify-full), and the image
# stays exactly the one CI tested (it carries no CA file of its own).
# Fetched from AWS's trust store when Terraform plans
# (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html).
data "http" "rds_ca_bundle" {
  url = "https://truststore.pki.rds.amazonaws.com/${var.aws_region}/${var.aws_region}-bundle.pem"

  lifecycle {
    postcondition {
      condition     = self.status_code == 200 && strcontains(self.response_body, "-----BEGIN CERTIFICATE-----")
      error_message = "Could not fetch the RDS CA bundle of ${var.aws_region} from truststore.pki.rds.amazonaws.com (HTTP ${self.status_code})."
    }
  }
}

resource "aws_db_subnet_group" "main" {
  name       = local.name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_db_parameter_group" "main" {
  name   = "${local.name}-pg15"
  family = "postgres15"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # Slow statements into the PostgreSQL log (CloudWatch, see below).
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  # Advisory-lock waits (migrations, one-run-per-job) show up in the log.
  parameter {
    name  = "log_lock_waits"
    value = "1"
  }
}

# RDS creates /aws/rds/instance/<id>/postgresql itself, keeping logs for
# ever; made here first (the instance depends on it), it keeps them
# log_retention_days like the service's own logs.
resource "aws_cloudwatch_log_group" "rds" {
  name              = "/aws/rds/instance/${local.name}/postgresql"
  retention_in_days = var.log_retention_days
}

resource "aws_db_instance" "main" {
  identifier     = local.name
  engine         = "postgres"
  engine_version = "15" # latest 15.x; minor upgrades in the maintenance window

  instance_class        = var.db_instance_class
  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true

  db_name  = var.db_name
  username = var.db_username
  password = random_password.db.result
  port     = 5432

  multi_az               = var.db_multi_az
  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.main.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  backup_retention_period    = var.db_backup_retention_days
  backup_window              = "02:00-03:00"
  maintenance_window         = "sun:03:30-sun:04:30"
  auto_minor_version_upgrade = true
  apply_immediately          = false
  copy_tags_to_snapshot      = true

  deletion_protection       = var.db_deletion_protection
  skip_final_snapshot       = var.db_skip_final_snapshot
  final_snapshot_identifier = "${local.name}-final"

  performance_insights_enabled    = true
  enabled_cloudwatch_logs_exports = ["postgresql"]
  depends_on                      = [aws_cloudwatch_log_group.rds]

  tags = { Name = local.name }

  # Rotated outside Terraform (docs/runbook.md, "Rotating secrets").
  lifecycle {
    ignore_changes = [password]
  }
}

# --- optional read replica (issue 13) ---------------------------------------------
# Same subnets, security group, parameter group (TLS forced) and encryption as
# the primary; not public. The service gets DATABASE_READ_URL (a secret: it
# carries the password) and READ_MAX_LAG; list routes run there and fall back
# to the primary when the replica is down or lags more than READ_MAX_LAG.
resource "aws_db_instance" "read" {
  count = var.db_read_replica ? 1 : 0

  identifier          = "${local.name}-read"
  replicate_source_db = aws_db_instance.main.identifier
  instance_class      = var.db_read_replica_instance_class != "" ? var.db_read_replica_instance_class : var.db_instance_class

  storage_type      = "gp3"
  storage_encrypted = true # inherited from the primary; stated so the checker sees it

  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.main.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  multi_az                   = false # a failed replica only sends reads back to the primary
  backup_retention_period    = 0
  auto_minor_version_upgrade = true
  apply_immediately          = false
  skip_final_snapshot        = true # a replica has nothing of its own to keep
  deletion_protection        = false

  performance_insights_enabled = true

  tags = { Name = "${local.name}-read" }
}

resource "aws_secretsmanager_secret" "db_read" {
  count = var.db_read_replica ? 1 : 0

  name                    = "${var.project}/${var.environment}/db-read"
  description             = "catalog-api DATABASE_READ_URL (JSON key url): libpq URL of the read replica"
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "db_read" {
  count = var.db_read_replica ? 1 : 0

  secret_id = aws_secretsmanager_secret.db_read[0].id
  secret_string = jsonencode({
    url = "postgresql://${var.db_username}:${random_password.db.result}@${aws_db_instance.read[0].address}:${aws_db_instance.read[0].port}/${var.db_name}?sslmode=verify-full"
  })

  # Rotated together with the primary's password (same master user).
  lifecycle {
    ignore_changes = [secret_string]
  }
}
