# EventBridge Scheduler: one schedule per entry of var.scheduled_jobs, each
# starting a one-off Fargate task `catalog-api run-job <job id>` from the same
# task definition as the service (same image, env, secrets, task role, logs).
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
      TaskDefinition  = aws_ecs_task_definition.api.arn
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
        Cpu    = tostring(var.job_task_cpu)
        Memory = tostring(var.job_task_memory)
        ContainerOverrides = [
          {
            Name    = local.container_name
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
  }
}
