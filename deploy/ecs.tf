# ECR repository, CloudWatch log group, ECS cluster, the two task definition
# families (API service; one-off jobs: run-job and migrate), the Fargate service
# and its autoscaling, the API token parameter.

# --- ECR -----------------------------------------------------------------------
resource "aws_ecr_repository" "api" {
  name                 = local.name
  image_tag_mutability = "IMMUTABLE" # a tag (git SHA) always means the same image

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

resource "aws_ecr_lifecycle_policy" "api" {
  repository = aws_ecr_repository.api.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images after 7 days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 7
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the 50 most recent images (rollback window)"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = 50
        }
        action = { type = "expire" }
      },
    ]
  })
}

# --- logs ------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "api" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
}

# --- cluster ---------------------------------------------------------------------
resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

# --- task definitions ------------------------------------------------------------
# Two families from one image and one configuration:
#   <name>      the API service: `serve`, port 8000, container health check on
#               the shallow /health/live (like the ALB's).
#   <name>-job  one-off tasks: `run-job <id>` (EventBridge Scheduler) and
#               `migrate` (the deploy workflow): no port, no HTTP health check
#               (nothing listens, so one would only ever say UNHEALTHY), their
#               own CPU/memory.
# deploy/task-definition.json is the service family rendered as plain JSON;
# tests/deploy/check_deploy.py keeps the two in agreement.
#
# CI (.github/workflows/deploy.yml, scripts/ecs-deploy.sh) registers new
# revisions of both families with a new image and moves the service; the
# service therefore ignores task_definition changes (a later `terraform apply`
# must not roll the image back to whatever image_tag it was given), and the
# schedules name the job family without a revision (latest ACTIVE revision).

locals {
  # Secrets only through `secrets`/`valueFrom`, never `environment`.
  base_secrets = [
    {
      name      = "DB_PASSWORD"
      valueFrom = "${aws_secretsmanager_secret.db.arn}:password::"
    },
    {
      name      = "API_TOKEN"
      valueFrom = aws_ssm_parameter.api_token.arn
    },
    {
      # Signs every run notification (X-Catalog-Signature); receivers verify with it.
      name      = "NOTIFY_SECRET"
      valueFrom = aws_secretsmanager_secret.notify.arn
    },
  ]

  # The replica URL carries the password, so it is a secret too.
  read_replica_secrets = var.db_read_replica ? [{ name = "DATABASE_READ_URL", valueFrom = "${aws_secretsmanager_secret.db_read[0].arn}:url::" }] : []

  # Scratch space (the root filesystem is read-only). TMPDIR, where an update
  # run spills its changed rows, is the image's /var/tmp/catalog: owned by the
  # service user in the image and declared a VOLUME there, so mounting a task
  # volume at that same path gets its owner and mode (a bare Fargate volume
  # is root-owned 0755). /tmp too, for anything that ignores TMPDIR.
  scratch_mount_points = [
    {
      sourceVolume  = "scratch"
      containerPath = local.tmpdir
      readOnly      = false
    },
    {
      sourceVolume  = "tmp"
      containerPath = "/tmp"
      readOnly      = false
    },
  ]

  container_environment_list = [
    for k in sort(keys(local.container_environment)) : {
      name  = k
      value = local.container_environment[k]
    }
  ]

  api_container = {
    name        = local.container_name
    image       = local.image
    essential   = true
    command     = ["serve"]
    user        = "10001:10001"
    stopTimeout = 30 # SIGKILL 30 s after SIGTERM; SHUTDOWN_TIMEOUT (25 s) stays below it

    readonlyRootFilesystem = true

    portMappings = [
      {
        name          = "http"
        containerPort = local.container_port
        hostPort      = local.container_port
        protocol      = "tcp"
        appProtocol   = "http"
      },
    ]

    environment = local.container_environment_list

    # Resolved by the ECS agent with the execution role at task start; a
    # rotated value reaches running tasks only after a new deployment.
    secrets = concat(local.base_secrets, local.read_replica_secrets)

    # Writable scratch space: the root filesystem is read-only.
    mountPoints = local.scratch_mount_points

    # Same probe as the image's HEALTHCHECK: `catalog-api healthcheck` GETs
    # /health/live (shallow). An unhealthy essential container makes ECS
    # replace the task, so it must not depend on the database.
    healthCheck = {
      command     = ["CMD", "/usr/local/bin/catalog-api", "healthcheck"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 60
    }

    linuxParameters = {
      initProcessEnabled = true # tini as PID 1: forwards SIGTERM, reaps zombies
    }

    ulimits = [
      {
        name      = "nofile"
        softLimit = 65536
        hardLimit = 65536
      },
    ]

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.api.name
        awslogs-region        = var.aws_region
        awslogs-stream-prefix = "ecs"
        # Never block the process on CloudWatch; drop instead if the buffer fills.
        mode            = "non-blocking"
        max-buffer-size = "25m"
      }
    }
  }

  # The job container: same image, user, environment, secrets, scratch space
  # and log group (so the log metric filters see scheduled runs too); no port
  # and no health check. Its command is always overridden (run-job <id>,
  # migrate); the default is the harmless, idempotent `migrate`, never `serve`.
  job_container = {
    name        = local.job_container_name
    image       = local.image
    essential   = true
    command     = ["migrate"]
    user        = "10001:10001"
    stopTimeout = 30

    readonlyRootFilesystem = true

    environment = local.container_environment_list
    secrets     = concat(local.base_secrets, local.read_replica_secrets)

    mountPoints = local.scratch_mount_points

    linuxParameters = {
      initProcessEnabled = true
    }

    ulimits = [
      {
        name      = "nofile"
        softLimit = 65536
        hardLimit = 65536
      },
    ]

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.api.name
        awslogs-region        = var.aws_region
        awslogs-stream-prefix = "job"
        mode                  = "non-blocking"
        max-buffer-size       = "25m"
      }
    }
  }
}

resource "aws_ecs_task_definition" "api" {
  family = local.name
  # CI registers revisions and rolls back to the previous one on failure; a
  # revision Terraform replaces stays registered, so a rollback (by the deploy
  # script or by ECS's circuit breaker) can still start it.
  skip_destroy             = true
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.task_cpu)
  memory                   = tostring(var.task_memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "scratch"
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([local.api_container])
}

resource "aws_ecs_task_definition" "job" {
  family                   = "${local.name}-job"
  skip_destroy             = true # as for the service family: a rollback may need it
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.job_task_cpu)
  memory                   = tostring(var.job_task_memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "scratch"
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([local.job_container])
}

# --- service ---------------------------------------------------------------------
resource "aws_ecs_service" "api" {
  name             = "api"
  cluster          = aws_ecs_cluster.main.id
  task_definition  = aws_ecs_task_definition.api.arn
  desired_count    = var.desired_count
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  # Rolling deploy: start new tasks first (up to 200%), never drop below the
  # desired count, roll back automatically if the new tasks never get healthy.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  health_check_grace_period_seconds = var.health_check_grace_period
  enable_ecs_managed_tags           = true
  propagate_tags                    = "SERVICE"
  enable_execute_command            = false

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.api.arn
    container_name   = local.container_name
    container_port   = local.container_port
  }

  lifecycle {
    # desired_count: autoscaling owns it after creation.
    # task_definition: CI deploys new revisions (scripts/ecs-deploy.sh); an
    # apply must not move the service back to its own revision.
    ignore_changes = [desired_count, task_definition]
  }

  # The target group must be attached to a listener before the service
  # registers targets. With a certificate the HTTP listener only redirects, so
  # the HTTPS one is the listener that forwards: depend on both, or the first
  # apply can race it ("target group does not have an associated load balancer").
  depends_on = [
    aws_lb_listener.http,
    aws_lb_listener.https,
    aws_iam_role_policy.execution,
  ]
}

# --- autoscaling -----------------------------------------------------------------
resource "aws_appautoscaling_target" "api" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.api.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${local.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension

  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${local.name}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension

  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.main.arn_suffix}/${aws_lb_target_group.api.arn_suffix}"
    }
    target_value       = var.requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
  }
}

# --- API token -------------------------------------------------------------------
# Generated once; operators may rotate it out of band (Terraform ignores later
# value changes), then force a new deployment so tasks pick it up.
resource "random_password" "api_token" {
  length  = 48
  special = false
}

resource "aws_ssm_parameter" "api_token" {
  name        = "/${var.project}/${var.environment}/api-token"
  description = "catalog-api API_TOKEN (Bearer / X-API-Key for writes, /feeds, /jobs, /runs)"
  type        = "SecureString"
  value       = random_password.api_token.result

  lifecycle {
    ignore_changes = [value]
  }
}

# The webhook signing secret (NOTIFY_SECRET, docs/runbook.md "Notifications"):
# generated here, handed to receivers by the operator, rotated outside
# Terraform (docs/runbook.md "Rotating secrets"). Both families get it: the
# service delivers notifications, run-job and run-object queue them.
resource "random_password" "notify" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret" "notify" {
  name                    = "${var.project}/${var.environment}/notify-secret"
  description             = "catalog-api NOTIFY_SECRET: HMAC-SHA256 key of the X-Catalog-Signature on run notifications"
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "notify" {
  secret_id     = aws_secretsmanager_secret.notify.id
  secret_string = random_password.notify.result

  lifecycle {
    ignore_changes = [secret_string]
  }
}
