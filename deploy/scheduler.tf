# EventBridge Scheduler: one schedule per entry of var.scheduled_jobs, each
# starting a one-off Fargate task `catalog-api run-job <job id>` from the job
# task definition family (same image, env, secrets, task role and log group as
# the service; no port, no HTTP health check, its own CPU/memory). The family
# is named without a revision, so every run uses the latest ACTIVE revision:
# the one CI registered with the image the service runs.
#
# The universal target (aws-sdk:ecs:runTask) is used rather than the templated
# ECS target because it carries the RunTask request verbatim, including the
# container command override; the templated target has no overrides field.
# Its Input uses the API's PascalCase member names.

resource "aws_scheduler_schedule_group" "jobs" {
  name = "${local.name}-jobs"
}

resource "aws_scheduler_schedule" "run_job" {
  for_each = var.scheduled_jobs

  name        = substr("run-job-${each.key}", 0, 64)
  group_name  = aws_scheduler_schedule_group.jobs.name
  description = "catalog-api run-job ${each.key}"
  state       = var.schedules_enabled ? "ENABLED" : "DISABLED"

  schedule_expression          = each.value
  schedule_expression_timezone = var.schedule_timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = "arn:${local.partition}:scheduler:::aws-sdk:ecs:runTask"
    role_arn = aws_iam_role.scheduler.arn

    input = jsonencode({
      Cluster         = aws_ecs_cluster.main.arn
      TaskDefinition  = aws_ecs_task_definition.job.family
      LaunchType      = "FARGATE"
      PlatformVersion = "LATEST"
      Count           = 1
      StartedBy       = "scheduler"
      Group           = "run-job:${each.key}"
      NetworkConfiguration = {
        AwsvpcConfiguration = {
          Subnets        = aws_subnet.private[*].id
          SecurityGroups = [aws_security_group.service.id]
          AssignPublicIp = "DISABLED"
        }
      }
      Overrides = {
        ContainerOverrides = [
          {
            Name    = local.job_container_name
            Command = ["run-job", each.key]
          },
        ]
      }
      EnableECSManagedTags = true
      PropagateTags        = "TASK_DEFINITION"
      Tags = [
        { Key = "catalog-job", Value = each.key },
      ]
    })

    # Retries cover a failed RunTask call (e.g. Fargate capacity), not a job
    # that ran and failed. A duplicate run is harmless: runs of one job are
    # serialised and an unchanged feed writes nothing.
    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }

    # A RunTask the retries could not make (no capacity, IAM, a deleted
    # family) lands here and raises the job-dlq-depth alarm (events.tf).
    dead_letter_config {
      arn = aws_sqs_queue.job_dlq.arn
    }
  }
}
